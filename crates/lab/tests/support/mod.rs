//! What the lab's run tests share: the options of a one-stack, one-scenario run in a folder of
//! its own, the server on CPU 1 and everything else on CPU 0 (one CPU for all on a 1-CPU machine).

use std::path::Path;
use std::time::Duration;

use stackwise_lab::manifest::Stack;
use stackwise_lab::run::{Protocol, RunOptions};

/// Options to run `scenario` against the stack in `stack_dir`, with a cache and logs under
/// `root`, measured as `protocol` says.
pub fn options(root: &Path, stack_dir: &Path, scenario: &str, protocol: Protocol) -> RunOptions {
    let cpus = stackwise_engine::cpu::online_cpus();
    let (load, server) = if cpus > 1 {
        (vec![0], vec![1])
    } else {
        (vec![0], vec![0])
    };
    RunOptions {
        stacks: vec![Stack::load(stack_dir).expect("the fixture stack loads")],
        scenarios: vec![scenario.into()],
        cache_dir: root.join("cache"),
        logs_dir: root.join("logs"),
        database_url: None,
        server_cpus: server,
        infra_cpus: load.clone(),
        load_cpus: load,
        protocol,
        start_timeout: Duration::from_secs(60),
        resume: None,
    }
}
