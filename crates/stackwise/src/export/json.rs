//! The JSON result, following the committed schema (`schema/load-report.schema.json`).

use stackwise_engine::LoadReport;

pub fn render(report: &LoadReport) -> anyhow::Result<String> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}
