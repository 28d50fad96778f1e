//! The fallback for machines without PostgreSQL: the binaries an npm package ships run a real
//! throwaway cluster with the schema loaded and statement counting on.

#![allow(clippy::unwrap_used)]

use stackwise_lab::postgres::{table_counts, Database};

#[test]
fn a_cluster_runs_from_the_npm_package() {
    let cache = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stackwise-cache");
    let bin = stackwise_lab::postgres_npm::npm_binaries(&cache).unwrap();
    assert!(bin.join("initdb").is_file() && bin.join("postgres").is_file());
    // Make the lab use exactly these binaries (each nextest test is a process of its own).
    std::env::set_var("STACKWISE_PG_BIN", &bin);
    let logs = tempfile::tempdir().unwrap();
    let db = Database::throwaway(None, &logs.path().join("pg.log"), &cache).unwrap();
    assert!(db.version.starts_with("15."), "{}", db.version);
    let mut client = db.info.connect().unwrap();
    let worlds: i64 = client
        .query_one("SELECT count(*) FROM world", &[])
        .unwrap()
        .get(0);
    assert_eq!(worlds, 10_000);
    let (before, _) = table_counts(&mut client, "world").unwrap();
    client
        .query("SELECT randomnumber FROM world WHERE id = 1", &[])
        .unwrap();
    let (after, _) = table_counts(&mut client, "world").unwrap();
    assert_eq!(after, before + 1);
    let data = db.data_dir().unwrap();
    drop(client);
    drop(db);
    assert!(!data.exists());
}
