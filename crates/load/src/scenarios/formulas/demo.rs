//! `demo formulas FILE...`: posts formulas and waits until each accepted one is
//! processed.

use crate::demo::{Api, error_line, poll, post_file};
use devstack::Result;

/// Posts each formula file in order, then waits until every accepted formula is processed.
pub async fn run(files: &[String]) -> Result<()> {
    let api = Api::local()?;
    let mut accepted = Vec::new();
    println!(
        "== Submitting {} formulas through {} ==",
        files.len(),
        api.base()
    );
    for file in files {
        let (name, status, answer) = post_file(&api, "/formulas", file).await?;
        let detail = match (answer["formula_id"].as_str(), answer.get("error")) {
            (Some(id), None) => {
                accepted.push(id.to_owned());
                format!("accepted {id}")
            }
            (Some(id), Some(_)) => format!("{}: existing {id}", error_line(&answer)),
            (None, Some(_)) => error_line(&answer),
            _ => answer.to_string(),
        };
        println!("  {name:<34} HTTP {status}  {detail}");
    }
    for id in &accepted {
        let f = poll(&api, &format!("/formulas/{id}"), |f| {
            f["status"] == "processed"
        })
        .await?;
        println!("  {id} {}", f["status"].as_str().unwrap_or("?"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::demo::samples_json;

    #[test]
    fn demo_formulas_are_valid_except_the_invalid_one() {
        for (f, v) in samples_json("formulas") {
            let result = domain::formulas::NewFormula::from_json(&v);
            let invalid = f.to_string_lossy().contains("invalid");
            assert_eq!(result.is_err(), invalid, "{}", f.display());
        }
    }
}
