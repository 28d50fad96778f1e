//! The bundled reference results: a default `stackwise run` measured by stackwise itself on the
//! machine its `host` names, so `stackwise advise` can answer before the user has run anything.
//! They are labelled as such wherever they are used; the user's own runs replace them.
//!
//! The file is the run's results.json, with the raw histograms of the sweep and the capacity
//! probes replaced by an empty one to keep it small (their summaries are as measured; the
//! trials keep theirs). `data/reference/README.md` says how it was made.

use stackwise_results::RunResult;

const TEXT: &str = include_str!("../../../data/reference/results.json");

/// The reference run. A test proves the embedded file parses, so this cannot fail at run time.
pub fn results() -> RunResult {
    RunResult::parse(TEXT).expect("the bundled reference results parse (tested)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_is_a_finished_full_run_of_the_seven_stacks() {
        let r = results();
        assert!(r.finished_at.is_some(), "an interrupted run");
        assert!(!r.quick, "a quick run is not for decisions");
        assert_eq!(r.stacks.len(), 7);
        for stack in &r.stacks {
            assert!(stack.error.is_none(), "{}: {:?}", stack.id, stack.error);
            assert_eq!(
                stack.scenarios.len(),
                r.settings.scenarios.len(),
                "{}",
                stack.id
            );
        }
    }
}
