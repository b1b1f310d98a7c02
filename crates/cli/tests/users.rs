//! `furrow user create` end to end (issue #8): the password comes from standard input or the
//! environment, never the command line; the user then signs in on the real server's form, with a
//! session cookie that opens `/me`; a taken e-mail address and a short password are refused.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{Server, block_on, database_flags, furrow, init};

fn create(data: &[std::ffi::OsString], email: &str, stdin: &str) -> std::process::Output {
    let mut child = furrow()
        .args(["user", "create", "--org", "Tohoku Rice Offsets", "--role", "operator", "--email", email])
        .args(data)
        .env_remove("FURROW_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("user create runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write the password");
    child.wait_with_output().expect("user create ends")
}

#[test]
fn a_user_created_from_the_shell_signs_in_on_the_form() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = database_flags(&dir.path().join("registry"), None);
    init(&data);

    let made = create(&data, "aiko@example.jp", "correct horse battery\n");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert_eq!(String::from_utf8_lossy(&made.stdout).trim(), "user-1");
    let again = create(&data, "AIKO@example.jp", "another password\n");
    assert!(!again.status.success(), "a taken e-mail address is refused");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let short = create(&data, "kenji@example.jp", "short\n");
    assert!(!short.status.success(), "a short password is refused");
    // There is no flag for the password: it would show in `ps`.
    let argv = furrow()
        .args(["user", "create", "--org", "O", "--role", "operator", "--email", "x@example.jp", "--password", "p"])
        .args(&data)
        .output()
        .expect("runs");
    assert!(!argv.status.success());

    let server = Server::start(&data);
    let url = server.url.trim_end_matches('/').to_owned();
    block_on(async {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let response = client
            .post(format!("{url}/signin"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=aiko%40example.jp&password=correct%20horse%20battery")
            .send()
            .await
            .expect("sign in");
        assert_eq!(response.status().as_u16(), 303);
        let cookie =
            response.headers()["set-cookie"].to_str().expect("ascii").split(';').next().expect("pair").to_owned();
        let me = client.get(format!("{url}/me")).header("cookie", cookie).send().await.expect("me");
        assert_eq!(me.status().as_u16(), 200);
        assert!(me.text().await.expect("html").contains("aiko@example.jp"));
    });
}
