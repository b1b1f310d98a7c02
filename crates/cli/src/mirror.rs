//! `furrow mirror`: copy a registry's log (checkpoint, key, hash tiles, entry bundles) into a
//! directory laid out like a C2SP tlog-tiles log. Any static host can serve that directory, and
//! `furrow verify --bundle` audits it offline.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use furrow_tlog::checkpoint::Checkpoint;
use furrow_tlog::tile::tiles_for_size;
use indicatif::ProgressBar;

#[derive(Args)]
pub struct MirrorArgs {
    /// The registry to copy, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// The directory to write (created if missing; tiles already there are kept, as they never change).
    #[arg(long)]
    out: PathBuf,
}

pub async fn run(args: MirrorArgs) -> Result<()> {
    let client = reqwest::Client::new();
    let base = format!("{}/api/v1/log", args.url.trim_end_matches('/'));
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{base}/{path}");
        async move {
            let response = client.get(&url).send().await.with_context(|| format!("cannot reach {url}"))?;
            if !response.status().is_success() {
                bail!("GET {url} answered {}", response.status());
            }
            Ok::<_, anyhow::Error>(response.bytes().await?.to_vec())
        }
    };
    let note = String::from_utf8(get("checkpoint".into()).await?).context("the checkpoint is not text")?;
    let body = note.split("\n\n").next().unwrap_or_default();
    let size = Checkpoint::parse(&format!("{body}\n")).map_err(|e| anyhow::anyhow!("checkpoint: {e}"))?.size();

    let tiles: Vec<_> = tiles_for_size(size).map_err(|e| anyhow::anyhow!("{e}"))?.collect();
    let progress = ProgressBar::new(tiles.len() as u64).with_message("mirroring tiles");
    for tile in tiles {
        let mut paths = vec![tile.path()];
        if tile.level() == 0 {
            paths.push(tile.entries_path().map_err(|e| anyhow::anyhow!("{e}"))?);
        }
        for path in paths {
            let file = args.out.join(&path);
            if !file.exists() {
                let data = get(path).await?;
                std::fs::create_dir_all(file.parent().unwrap_or(&args.out))?;
                std::fs::write(&file, data)?;
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if let Ok(key) = get("key".into()).await {
        std::fs::write(args.out.join("key"), key)?;
    }
    // Written last, so a mirror interrupted halfway never claims more than its tiles hold.
    std::fs::write(args.out.join("checkpoint"), &note)?;
    println!("Mirrored {size} log entries to {}.", args.out.display());
    println!("Audit it offline:  furrow verify --bundle {} --key '<the program's published key>'", args.out.display());
    Ok(())
}
