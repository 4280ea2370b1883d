//! `run -- CMD`: a one-off command in the environment's active release (Heroku's `run`), its
//! output printed as it comes (its stderr on stderr), its exit code the CLI's.

use super::args::RunArgs;
use super::context::Context;
use super::failure::Failure;
use super::output;
use shipyard_client::Follow;

/// `run`.
pub async fn run(ctx: &Context, args: RunArgs) -> Result<(), Failure> {
    let (project, env) = ctx.environment(&args.target).await?;
    let command = shell_words(&args.command);
    let started = ctx.ws.start_run(&project.id, &env.id, &command).await?;
    eprintln!(
        "Running `{}` in {} ({}, release {})",
        output::printable(&command),
        output::text(&env.slug),
        output::text(&started.id),
        output::text(&started.release_id)
    );
    let mut follow = Follow::new(&ctx.client, ctx.ws.run_stream(&started.id));
    while let Some(frame) = follow.next().await? {
        if frame["type"] != "log" {
            continue;
        }
        if ctx.json {
            println!("{frame}");
        } else if frame["stream"] == "stderr" {
            eprintln!("{}", output::text(&frame["line"]));
        } else {
            println!("{}", output::text(&frame["line"]));
        }
    }
    let ended = ctx.ws.run(&started.id).await?;
    match (ended.status.as_str(), ended.exit_code) {
        ("exited", Some(0)) => Ok(()),
        ("exited", Some(code)) => Err(Failure::CommandExit(code)),
        (status, _) => Err(Failure::Other(format!(
            "the command {status}: {}",
            ended.error.unwrap_or_default()
        ))),
    }
}

/// The words as one `sh -c` command line: each quoted unless it is plainly safe.
fn shell_words(words: &[String]) -> String {
    let safe = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c));
    words
        .iter()
        .map(|w| {
            if safe(w) {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::shell_words;

    #[test]
    fn words_are_quoted_only_when_they_need_it() {
        let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(shell_words(&words(&["npm", "run", "migrate"])), "npm run migrate");
        assert_eq!(shell_words(&words(&["echo", "a b", "it's"])), "echo 'a b' 'it'\\''s'");
        assert_eq!(shell_words(&words(&["sh", "-c", "exit 3"])), "sh -c 'exit 3'");
    }
}
