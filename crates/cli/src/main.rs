//! `furrow`: run a carbon-credit registry. See `furrow --help`.

mod backup;
mod bench;
mod database;
mod demo;
mod import;
mod keys;
mod mirror;
mod sim;
mod verify;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use furrow_app::{Principal, Registry, SequencerOptions};
use furrow_domain::{AccountId, Command, Role, Timestamp};

pub(crate) use database::{DataDir, database_path};

#[derive(Parser)]
#[command(
    name = "furrow",
    version,
    about = "Furrow: the registry of an agricultural carbon-offset program",
    long_about = "Furrow issues serialized carbon credits (1 credit = 1 tCO2e), moves and retires them, \
and records every change in an append-only log that anyone can audit.\n\n\
Try it:   furrow demo              (a seeded program on a temporary database)\n\
Run it:   furrow init --data-dir ./registry && furrow serve --data-dir ./registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a new registry database and initialise the program.
    #[command(
        after_help = "Example:\n  furrow init --data-dir ./registry --code AGR --country JP --name \"Tohoku Rice Offsets\""
    )]
    Init(InitArgs),
    /// Serve the registry API.
    #[command(
        after_help = "Example:\n  furrow serve --data-dir ./registry --listen 127.0.0.1:8080\n  curl http://127.0.0.1:8080/api/v1/status"
    )]
    Serve(ServeArgs),
    /// Start a server on a fresh database seeded with a realistic demo program.
    #[command(
        after_help = "Example:\n  furrow demo                      # temporary database, port 8080\n  furrow demo --listen 127.0.0.1:0 # any free port\n  furrow demo --data-dir ./demo    # keep the database"
    )]
    Demo(DemoArgs),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Manage users who sign in on the web pages.
    #[command(subcommand)]
    User(UserCmd),
    /// Audit a registry: every leaf hash, the Merkle tree, the signed checkpoint, consistency with
    /// checkpoints seen before, and a full replay of the log checked against the published state.
    #[command(
        after_help = "Examples:\n  furrow verify --url http://127.0.0.1:8080 --key 'agr.furrow/log+1a2b3c4d+AQ…'\n  furrow verify --data-dir ./registry\n  furrow verify --bundle ./agr-log   (made by `furrow mirror`)\n\nExit status: 0 when everything checks out, 1 when anything does not."
    )]
    Verify(verify::VerifyArgs),
    /// Copy a registry's log (checkpoint, tiles, entry bundles) into a directory for offline audit
    /// or static hosting.
    #[command(
        after_help = "Example:\n  furrow mirror --url http://127.0.0.1:8080 --out ./agr-log\n  furrow verify --bundle ./agr-log --key 'agr.furrow/log+1a2b3c4d+AQ…'"
    )]
    Mirror(mirror::MirrorArgs),
    /// Manage the log's signing key.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Print the program's totals, from a running server or a database file.
    #[command(
        after_help = "Examples:\n  furrow status --url http://127.0.0.1:8080\n  furrow status --data-dir ./registry"
    )]
    Status(StatusArgs),
    /// Copy the registry's database to a file while it runs (SQLite: a consistent snapshot;
    /// PostgreSQL: pg_dump's custom format). The signing key is not in it: back it up apart.
    #[command(
        after_help = "Examples:\n  furrow backup --data-dir ./registry --out registry-2026-11-25.db\n  furrow backup --database-url postgres://furrow@db/furrow --out registry.dump\n\nThen: furrow restore --from <file> … and furrow verify on the restored copy."
    )]
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty data directory or database, and check it.
    #[command(
        after_help = "Examples:\n  furrow restore --from registry-2026-11-25.db --data-dir ./restored\n  furrow restore --from registry.dump --database-url postgres://furrow@db2/furrow\n  furrow verify --data-dir ./restored"
    )]
    Restore(backup::RestoreArgs),
    /// Import other registries' exports (Verra, Gold Standard, ACR, CAR, ART, Isometric, Cercarbono,
    /// VROD, …) into the read-only external area, quarantining rows that break their format's
    /// invariants and flagging projects and serials that appear in two registries.
    #[command(long_about = import::LONG_ABOUT, after_help = import::AFTER_HELP)]
    Import(import::ImportArgs),
    /// Measure Furrow against baselines run in the same invocation (fsync, raw SQLite, SHA-256,
    /// pgbench, a static file server) and print the ratios; or generate a Verra-scale dataset.
    #[command(long_about = bench::LONG_ABOUT, after_help = bench::AFTER_HELP)]
    Bench(bench::BenchArgs),
    /// Run the deterministic simulator: seeded random commands through the real application layer
    /// on SQLite, with commits failing on purpose, checking every invariant after every command.
    #[command(after_help = sim::AFTER_HELP)]
    Sim(sim::SimArgs),
}

#[derive(Args)]
struct InitArgs {
    #[command(flatten)]
    data: DataDir,
    /// Program code printed in every serial (2-8 upper-case letters or digits).
    #[arg(long, default_value = "AGR")]
    code: String,
    /// The program's home country (ISO 3166-1 alpha-2).
    #[arg(long, default_value = "JP")]
    country: String,
    /// The program's public name.
    #[arg(long, default_value = "Furrow Agricultural Offset Program")]
    name: String,
    /// The log's origin: the first line of every checkpoint and the signing key's name.
    /// Defaults to `<code>.furrow/log` in lower case.
    #[arg(long)]
    origin: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    data: DataDir,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "FURROW_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve public reads (accounts, batches, blocks, retirements, …) from this PostgreSQL
    /// streaming replica; writes, the log and proofs stay on --database-url. Its lag is shown in
    /// /api/v1/status.
    #[arg(long, env = "FURROW_READ_DATABASE_URL", value_name = "URL", requires = "database_url")]
    read_database_url: Option<String>,
}

#[derive(Args)]
struct DemoArgs {
    /// Keep the demo database here instead of in a temporary directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create a bearer token. The secret is printed once; only its hash is stored.
    #[command(
        after_help = "Examples:\n  furrow token create --role operator --subject \"Aiko Tanaka\"\n  furrow token create --role buyer --account A000007 --subject \"Kansai Rail treasury\"\n  furrow token create --role admin --subject \"Audit desk\" --read-only --expires-in-days 30"
    )]
    Create(TokenArgs),
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a user who signs in at /signin. The password is read from FURROW_PASSWORD, from
    /// --password-file, or from the first line of standard input; never from the command line,
    /// where other users of the machine could see it. The organisation is created if new.
    #[command(
        after_help = "Examples:\n  furrow user create --org \"Tohoku Rice Offsets\" --role operator --email aiko@example.jp < pw.txt\n  FURROW_PASSWORD=… furrow user create --org \"Kansai Rail\" --role buyer --account A000007 --email treasury@example.jp"
    )]
    Create(UserArgs),
}

#[derive(Args)]
struct UserArgs {
    #[command(flatten)]
    data: DataDir,
    /// The organisation the user belongs to.
    #[arg(long)]
    org: String,
    /// admin, operator, verifier, participant or buyer.
    #[arg(long)]
    role: String,
    /// The user's sign-in name.
    #[arg(long)]
    email: String,
    /// An account the user acts for (buyers and participants); repeat for several.
    #[arg(long = "account")]
    accounts: Vec<String>,
    /// A file whose first line is the password.
    #[arg(long)]
    password_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Replace the log's signing key. The new key is announced in the log, under a checkpoint
    /// signed with the old key, so verifiers that trust the old key come to trust the new one.
    /// Stop the server first; restart it afterwards.
    #[command(after_help = "Example:\n  furrow key rotate --data-dir ./registry")]
    Rotate(DataDir),
}

#[derive(Args)]
struct TokenArgs {
    #[command(flatten)]
    data: DataDir,
    /// admin, operator, verifier, participant or buyer.
    #[arg(long)]
    role: String,
    /// An account the token acts for (buyers and participants); repeat for several.
    #[arg(long = "account")]
    accounts: Vec<String>,
    /// Who uses the token; recorded as the actor of every change it makes.
    #[arg(long)]
    subject: Option<String>,
    /// A token that may only read (what its role may see), never change anything.
    #[arg(long)]
    read_only: bool,
    /// The token stops working after this many days (by default it works until revoked).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
    expires_in_days: Option<u32>,
}

#[derive(Args)]
struct StatusArgs {
    /// Ask a running server.
    #[arg(long, conflicts_with_all = ["data_dir", "database_url"])]
    url: Option<String>,
    /// Read a database directly.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Read a PostgreSQL database directly.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The simulator fails commits on purpose; the sequencer's error for each is noise there.
    let default_filter = if matches!(cli.command, Cmd::Sim(_)) { "off" } else { "warn,furrow=info" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FURROW_LOG").unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Cmd::Init(args) => init(args).await,
        Cmd::Serve(args) => serve(args).await,
        Cmd::Demo(args) => demo::run(args.data_dir, args.listen).await,
        Cmd::Token(TokenCmd::Create(args)) => create_token(args).await,
        Cmd::User(UserCmd::Create(args)) => create_user(args).await,
        Cmd::Status(args) => status(args).await,
        Cmd::Verify(args) => verify::run(args).await,
        Cmd::Mirror(args) => mirror::run(args).await,
        Cmd::Key(KeyCmd::Rotate(args)) => rotate_key(args).await,
        Cmd::Backup(args) => backup::backup(args).await,
        Cmd::Restore(args) => backup::restore(args).await,
        Cmd::Import(args) => import::run(args).await,
        Cmd::Bench(args) => bench::run(args).await,
        Cmd::Sim(args) => sim::run(args).await,
    }
}

/// A running registry. Holding it holds the database's writer lock.
pub(crate) struct Opened {
    pub store: Arc<dyn furrow_app::store::Store>,
    pub registry: Registry,
    _lock: Option<std::fs::File>,
}

/// Opens the database (running migrations) and starts the registry's single writer. No second
/// process may write to the same database: SQLite is guarded by an exclusive lock on
/// `furrow.lock`, PostgreSQL by an advisory lock the store takes.
pub(crate) async fn open(data: &DataDir, read_url: Option<&str>) -> Result<Opened> {
    let lock = data.lock()?;
    let store = data.open_store(read_url).await?;
    let dir = &data.data_dir;
    let log = keys::load(dir)?.map(furrow_app::transparency::log_options);
    if log.is_none() {
        tracing::warn!("no log signing key in {} (or {}): checkpoints are not published", dir.display(), keys::KEY_ENV);
    }
    let registry = Registry::start(store.clone(), SequencerOptions { log, ..SequencerOptions::default() }).await?;
    Ok(Opened { store, registry, _lock: lock })
}

pub(crate) fn default_origin(code: &str) -> String {
    format!("{}.furrow/log", code.to_lowercase())
}

/// Records the program and, as the log's second entry, the key that signs its checkpoints.
pub(crate) async fn initialise(registry: &Registry, code: &str, country: &str, name: &str, vkey: &str) -> Result<()> {
    let command = Command::InitialiseProgram {
        code: code.parse().context("--code")?,
        country: country.parse().context("--country")?,
        name: name.to_owned(),
    };
    registry.execute(&Principal::system(), command, None).await?;
    registry.execute(&Principal::system(), Command::PublishLogKey { vkey: vkey.to_owned() }, None).await?;
    Ok(())
}

async fn init(args: InitArgs) -> Result<()> {
    let dir = &args.data.data_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if args.data.holds_registry().await? {
        bail!("{} already holds a registry; serve it with `furrow serve {}`", args.data.describe(), args.data.flag());
    }
    let origin = args.origin.clone().unwrap_or_else(|| default_origin(&args.code));
    // A key given in the environment is the one that signs, so it is the one the log announces.
    let signer = match keys::load(dir)? {
        Some(from_env) => {
            let name = furrow_tlog::note::NoteSigner::name(&from_env).to_owned();
            if args.origin.as_ref().is_some_and(|o| *o != name) {
                bail!("--origin {origin} differs from the name of the key in {} ({name})", keys::KEY_ENV);
            }
            from_env
        }
        None => keys::create(dir, &origin)?,
    };
    let vkey = signer.vkey();
    let Opened { store, registry, _lock } = open(&args.data, None).await?;
    initialise(&registry, &args.code, &args.country, &args.name, &vkey).await?;
    // Wait for the first checkpoint, so a fresh registry verifies before it is ever served.
    wait_for_checkpoint(store.as_ref()).await?;
    drop(signer);
    registry.stop_background();
    store.close().await;
    let shown = args.data.flag();
    println!("Initialised program {} in {}.", args.code, args.data.describe());
    println!("The log is signed with {} (mode 0600): keep it secret and backed up.", keys::key_path(dir).display());
    println!("Publish the verifier key, so anyone can check the log's checkpoints:\n  {vkey}");
    println!("Next: create an operator token and start the server:");
    println!("  furrow token create {shown} --role operator --subject \"Your Name\"");
    println!("  furrow serve {shown}");
    Ok(())
}

/// Waits until the checkpointer has covered the whole log.
async fn wait_for_checkpoint(store: &dyn furrow_app::store::Store) -> Result<()> {
    for _ in 0..100 {
        let size = store.log_size().await?;
        if store.latest_checkpoint().await?.is_some_and(|c| c.tree_size >= size) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    bail!("the log's first checkpoint was not published within 10 s; see the log output above")
}

async fn rotate_key(args: DataDir) -> Result<()> {
    let dir = &args.data_dir;
    args.require_registry().await?;
    if std::env::var_os(keys::KEY_ENV).is_some() {
        bail!(
            "the signing key comes from {}; rotate it by hand: unset it, put the key in {} and rerun",
            keys::KEY_ENV,
            keys::key_path(dir).display()
        );
    }
    let old = keys::load(dir)?.ok_or_else(|| anyhow::anyhow!("{} has no signing key to rotate", dir.display()))?;
    let origin = furrow_tlog::note::NoteSigner::name(&old).to_owned();
    let staged = dir.join("log-signing.key.new");
    let _ = std::fs::remove_file(&staged);
    let new = keys::create_at(&staged, &origin)?;
    // The registry runs with the old key, so the checkpoint that covers the announcement is
    // signed by it: that signature is what vouches for the new key.
    let Opened { store, registry, _lock } = open(&args, None).await?;
    // Refused unless two admins approved a rotation (four-eyes); the staged key then goes.
    let published = registry.execute(&Principal::system(), Command::PublishLogKey { vkey: new.vkey() }, None).await;
    if let Err(e) = published {
        let _ = std::fs::remove_file(&staged);
        return Err(e.into());
    }
    wait_for_checkpoint(store.as_ref()).await?;
    registry.stop_background();
    store.close().await;
    let retired = dir.join(format!("log-signing.key.retired-{}", furrow_app::now().micros() / 1_000_000));
    std::fs::rename(keys::key_path(dir), &retired)?;
    std::fs::rename(&staged, keys::key_path(dir))?;
    println!(
        "Rotated the log's signing key. The old key is kept in {} (delete it once you no longer need it).",
        retired.display()
    );
    println!("New verifier key, announced in the log; publish it too:\n  {}", new.vkey());
    println!("Restart the server: `furrow serve {}`", args.flag());
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<()> {
    args.data.require_registry().await?;
    let Opened { registry, _lock, .. } = open(&args.data, args.read_database_url.as_deref()).await?;
    let listener = bind(args.listen).await?;
    println!("Furrow registry serving {} at {}", args.data.describe(), base_url(&listener)?);
    println!("  API status:  {}/api/v1/status", base_url(&listener)?);
    println!("  OpenAPI:     {}/api/v1/openapi.json", base_url(&listener)?);
    furrow_http::serve(listener, registry, shutdown_signal()).await?;
    Ok(())
}

pub(crate) async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr}; is another server running there? Pick another port with --listen 127.0.0.1:0")
    })
}

pub(crate) fn base_url(listener: &tokio::net::TcpListener) -> Result<String> {
    Ok(format!("http://{}", listener.local_addr()?))
}

pub(crate) async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// A `--role` and its `--account`s, as the token and user commands take them.
fn role_and_accounts(role: &str, accounts: &[String]) -> Result<(Role, Vec<AccountId>)> {
    let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    let accounts = accounts
        .iter()
        .map(|a| a.parse::<AccountId>().map_err(|e| anyhow::anyhow!("--account: {e}")))
        .collect::<Result<Vec<_>>>()?;
    Ok((role, accounts))
}

async fn create_token(args: TokenArgs) -> Result<()> {
    let (role, accounts) = role_and_accounts(&args.role, &args.accounts)?;
    args.data.require_registry().await?;
    // Tokens are not ledger state: no sequencer, so this works while a server runs.
    let store = args.data.open_store(None).await?;
    let subject = args.subject.unwrap_or_else(|| format!("{role} token"));
    let now = furrow_app::now();
    let expires_at = args.expires_in_days.map(|d| Timestamp(now.0 + i64::from(d) * 86_400_000_000));
    let spec =
        furrow_app::TokenSpec { subject: subject.clone(), role, accounts, can_write: !args.read_only, expires_at };
    let token = furrow_app::create_token_with(store.as_ref(), now, &spec).await;
    store.close().await;
    let token = token?;
    println!("{token}");
    eprintln!(
        "Created a {role} token for {subject:?}. It is shown only once; send it as `Authorization: Bearer <token>`."
    );
    Ok(())
}

/// The new user's password: the environment, a file, or standard input (first line).
fn read_password(file: Option<&PathBuf>) -> Result<furrow_app::password::Password> {
    use anyhow::Context;
    let text = if let Ok(p) = std::env::var("FURROW_PASSWORD") {
        p
    } else if let Some(path) = file {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
        line
    };
    let first = text.lines().next().unwrap_or("").to_owned();
    Ok(furrow_app::password::Password::new(first))
}

async fn create_user(args: UserArgs) -> Result<()> {
    let (role, accounts) = role_and_accounts(&args.role, &args.accounts)?;
    let password = read_password(args.password_file.as_ref())?;
    args.data.require_registry().await?;
    // Users are not ledger state: no sequencer, so this works while a server runs.
    let store = args.data.open_store(None).await?;
    let new = furrow_app::accounts::NewUser { email: args.email, organisation: args.org, role, accounts, password };
    let user = furrow_app::accounts::create_user(store.as_ref(), furrow_app::now(), "furrow user create", &new).await;
    store.close().await;
    let user = user?;
    println!("{}", furrow_app::accounts::subject_of(&user));
    eprintln!(
        "Created {} ({role}). They sign in at /signin; operators and admins should set up two-step sign-in at /me.",
        user.email
    );
    Ok(())
}

async fn status(args: StatusArgs) -> Result<()> {
    let direct = DataDir::from_flags(args.data_dir.as_ref(), args.database_url.as_ref());
    let body: serde_json::Value = match (&args.url, direct) {
        (_, Some(data)) => {
            data.require_registry().await?;
            let store = data.open_read_only().await?;
            let totals = store.totals().await?;
            let program = store.program().await?;
            store.close().await;
            serde_json::json!({
                "program": program.map(|p| serde_json::json!({"code": p.code.to_string(), "country": p.country.to_string(), "name": p.name})),
                "supply": {
                    "tradable": totals.supply.tradable, "escrowed": totals.supply.escrowed, "retired": totals.supply.retired,
                    "cancelled": totals.supply.cancelled, "buffer": totals.supply.buffer, "total": totals.supply.total(),
                },
                "accounts": totals.accounts, "batches": totals.batches, "retirements": totals.retirements, "log_size": totals.log_size,
            })
        }
        (url, None) => {
            let url = url.clone().unwrap_or_else(|| "http://127.0.0.1:8080".into());
            let endpoint = format!("{}/api/v1/status", url.trim_end_matches('/'));
            let response = reqwest::get(&endpoint)
                .await
                .with_context(|| format!("cannot reach {endpoint}; is `furrow serve` running?"))?;
            if !response.status().is_success() {
                bail!("{endpoint} answered {}", response.status());
            }
            response.json().await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}
