//! `furrow`: run a carbon-credit registry. See `furrow --help`.

mod demo;
mod keys;
mod mirror;
mod verify;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use furrow_app::{Principal, Registry, SequencerOptions};
use furrow_domain::{AccountId, Command, Role};
use furrow_store_sqlite::SqliteStore;

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
}

#[derive(Args)]
struct DataDir {
    /// Directory of the registry database (created if missing).
    #[arg(long, env = "FURROW_DATA_DIR", default_value = "furrow-data")]
    data_dir: PathBuf,
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
        after_help = "Examples:\n  furrow token create --role operator --subject \"Aiko Tanaka\"\n  furrow token create --role buyer --account A000007 --subject \"Kansai Rail treasury\""
    )]
    Create(TokenArgs),
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
}

#[derive(Args)]
struct StatusArgs {
    /// Ask a running server.
    #[arg(long, conflicts_with = "data_dir")]
    url: Option<String>,
    /// Read a database directly.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FURROW_LOG").unwrap_or_else(|_| "warn,furrow=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
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
        Cmd::Status(args) => status(args).await,
        Cmd::Verify(args) => verify::run(args).await,
        Cmd::Mirror(args) => mirror::run(args).await,
        Cmd::Key(KeyCmd::Rotate(args)) => rotate_key(args).await,
    }
}

pub(crate) fn database_path(dir: &Path) -> PathBuf {
    dir.join("furrow.db")
}

/// A running registry on a data directory. Holding it holds the directory's writer lock.
pub(crate) struct Opened {
    pub store: Arc<SqliteStore>,
    pub registry: Registry,
    _lock: std::fs::File,
}

/// Opens the database (running migrations) and starts the registry's single writer. An exclusive
/// lock on `furrow.lock` makes sure no second process writes to the same database.
pub(crate) async fn open(dir: &Path) -> Result<Opened> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let lock_path = dir.join("furrow.lock");
    let lock = std::fs::File::create(&lock_path).with_context(|| format!("cannot create {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        bail!("another furrow process is already serving {}; stop it first (one writer per database)", dir.display());
    }
    let store = Arc::new(SqliteStore::open(&database_path(dir)).await?);
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
    if database_path(dir).exists() {
        bail!("{} already holds a registry; serve it with `furrow serve --data-dir {}`", dir.display(), dir.display());
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
    let Opened { store, registry, _lock } = open(dir).await?;
    initialise(&registry, &args.code, &args.country, &args.name, &vkey).await?;
    // Wait for the first checkpoint, so a fresh registry verifies before it is ever served.
    wait_for_checkpoint(store.as_ref()).await?;
    drop(signer);
    registry.stop_background();
    store.close().await;
    let shown = dir.display();
    println!("Initialised program {} in {}.", args.code, database_path(dir).display());
    println!("The log is signed with {} (mode 0600): keep it secret and backed up.", keys::key_path(dir).display());
    println!("Publish the verifier key, so anyone can check the log's checkpoints:\n  {vkey}");
    println!("Next: create an operator token and start the server:");
    println!("  furrow token create --data-dir {shown} --role operator --subject \"Your Name\"");
    println!("  furrow serve --data-dir {shown}");
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
    if std::env::var_os(keys::KEY_ENV).is_some() {
        bail!(
            "the signing key comes from {}; rotate it by hand: unset it, put the key in {} and rerun",
            keys::KEY_ENV,
            keys::key_path(dir).display()
        );
    }
    if !database_path(dir).exists() {
        bail!("no registry in {}", dir.display());
    }
    let old = keys::load(dir)?.ok_or_else(|| anyhow::anyhow!("{} has no signing key to rotate", dir.display()))?;
    let origin = furrow_tlog::note::NoteSigner::name(&old).to_owned();
    let staged = dir.join("log-signing.key.new");
    let _ = std::fs::remove_file(&staged);
    let new = keys::create_at(&staged, &origin)?;
    // The registry runs with the old key, so the checkpoint that covers the announcement is
    // signed by it: that signature is what vouches for the new key.
    let Opened { store, registry, _lock } = open(dir).await?;
    registry.execute(&Principal::system(), Command::PublishLogKey { vkey: new.vkey() }, None).await?;
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
    println!("Restart the server: `furrow serve --data-dir {}`", dir.display());
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<()> {
    let dir = &args.data.data_dir;
    if !database_path(dir).exists() {
        bail!("no registry in {}; create one with `furrow init --data-dir {}`", dir.display(), dir.display());
    }
    let Opened { registry, _lock, .. } = open(dir).await?;
    let listener = bind(args.listen).await?;
    println!("Furrow registry serving {} at {}", dir.display(), base_url(&listener)?);
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

async fn create_token(args: TokenArgs) -> Result<()> {
    let role: Role = args.role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    let accounts = args
        .accounts
        .iter()
        .map(|a| a.parse::<AccountId>().map_err(|e| anyhow::anyhow!("--account: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let dir = &args.data.data_dir;
    if !database_path(dir).exists() {
        bail!("no registry in {}; create one with `furrow init --data-dir {}`", dir.display(), dir.display());
    }
    // Tokens are not ledger state: no sequencer, so this works while a server runs.
    let store = SqliteStore::open(&database_path(dir)).await?;
    let subject = args.subject.unwrap_or_else(|| format!("{role} token"));
    let token = furrow_app::create_token(&store, furrow_app::now(), &subject, role, &accounts).await;
    store.close().await;
    let token = token?;
    println!("{token}");
    eprintln!(
        "Created a {role} token for {subject:?}. It is shown only once; send it as `Authorization: Bearer <token>`."
    );
    Ok(())
}

async fn status(args: StatusArgs) -> Result<()> {
    let body: serde_json::Value = match (&args.url, &args.data_dir) {
        (_, Some(dir)) => {
            if !database_path(dir).exists() {
                bail!("no registry in {}", dir.display());
            }
            let store = SqliteStore::open(&database_path(dir)).await?;
            let totals = furrow_app::store::Store::totals(&store).await?;
            let program = furrow_app::store::Store::program(&store).await?;
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
