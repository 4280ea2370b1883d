//! `domains list|add|verify|remove`: a project's custom domains, the records to create and the
//! reason one is not live.

use super::context::Context;
use super::domain_args::{DomainProject, DomainsCommand};
use super::failure::Failure;
use super::output::{self, text};
use super::projects::all;
use shipyard_client::types::domains::{CreateDomainRequest, DnsRecord, DomainStatus, DomainView};
use shipyard_client::types::projects::ProjectView;

/// `domains …`.
pub async fn run(ctx: &Context, command: DomainsCommand) -> Result<(), Failure> {
    match command {
        DomainsCommand::List(project) => {
            let project = ctx.project(&project.target()).await?;
            let items = all(|paging| ctx.ws.domains(&project.id, paging)).await?;
            output::list(
                ctx.json,
                &items,
                &["HOSTNAME", "STATUS", "ENV", "POINTS HERE", "HTTPS", "WHY NOT LIVE"],
                |d| {
                    vec![
                        text(&d.hostname_unicode),
                        text(&d.status),
                        env_slug(&project, &d.environment_id),
                        if d.dns.points_here { "yes" } else { "no" }.to_owned(),
                        https(d),
                        reason(d).map_or_else(|| "-".to_owned(), |r| output::printable(&r)),
                    ]
                },
            );
        }
        DomainsCommand::Add { hostname, target } => {
            let (project, env) = ctx.environment(&target).await?;
            let req = CreateDomainRequest {
                hostname,
                environment_id: Some(env.id.clone()),
            };
            let made = ctx.ws.create_domain(&project.id, &req).await?;
            if ctx.json {
                output::json(&made);
                return Ok(());
            }
            println!(
                "Added {} to {} ({}).",
                text(&made.hostname_unicode),
                text(&env.slug),
                text(&made.status)
            );
            println!("1. Prove it is yours with this DNS record:");
            println!(
                "   TXT    {}  \"{}\"",
                text(&made.verification.name),
                text(&made.verification.value)
            );
            println!("2. Point it here with one of:");
            for record in &made.dns.expected {
                println!("   {}", record_line(record));
            }
            println!(
                "Then: shipyard domains verify {} --project {}",
                text(&made.hostname),
                text(&project.slug)
            );
        }
        DomainsCommand::Verify { domain, project } => {
            let (project, found) = find(ctx, &project, &domain).await?;
            let checked = ctx.ws.verify_domain(&project.id, &found.id).await?;
            if ctx.json {
                output::json(&checked);
            } else {
                println!("{}: {}", text(&checked.hostname_unicode), text(&checked.status));
                if let Some(why) = reason(&checked) {
                    println!("{}", output::printable(&why));
                }
            }
            if checked.status != DomainStatus::Verified {
                return Err(Failure::Other(format!(
                    "{} is not verified",
                    output::printable(&checked.hostname)
                )));
            }
        }
        DomainsCommand::Remove { domain, project } => {
            let (project, found) = find(ctx, &project, &domain).await?;
            ctx.ws.delete_domain(&project.id, &found.id).await?;
            if !ctx.json {
                println!("Removed {}; it is no longer served.", text(&found.hostname_unicode));
            }
        }
    }
    Ok(())
}

/// The project's domain named `wanted` (hostname, either form, or id).
async fn find(ctx: &Context, project: &DomainProject, wanted: &str) -> Result<(ProjectView, DomainView), Failure> {
    let project = ctx.project(&project.target()).await?;
    let items = all(|paging| ctx.ws.domains(&project.id, paging)).await?;
    let wanted_lower = wanted.trim_end_matches('.').to_lowercase();
    let found = items
        .into_iter()
        .find(|d| d.id == wanted || d.hostname == wanted_lower || d.hostname_unicode == wanted_lower);
    match found {
        Some(domain) => Ok((project, domain)),
        None => Err(Failure::Api {
            status: 404,
            message: format!(
                "project {} has no domain `{wanted}` (`shipyard domains list` shows them)",
                project.slug
            ),
        }),
    }
}

/// Why a domain is not live yet, in words: the failed proof first, then where DNS points.
/// The certificate column: its status and expiry (`-` without an HTTPS listener).
fn https(d: &DomainView) -> String {
    match &d.certificate {
        None => "-".to_owned(),
        Some(cert) => match cert.not_after {
            Some(until) => format!("{} until {}", text(&cert.status), until.format("%Y-%m-%d")),
            None => text(&cert.status),
        },
    }
}

fn reason(d: &DomainView) -> Option<String> {
    let mut why = Vec::new();
    match d.status {
        DomainStatus::Verified => why.extend(d.error.clone()),
        DomainStatus::Failed => why.push(d.error.clone().unwrap_or_else(|| "not verified".to_owned())),
        DomainStatus::Pending => why.push(format!(
            "not verified yet: create TXT {} \"{}\" and run verify",
            d.verification.name, d.verification.value
        )),
    }
    if let Some(error) = &d.dns.error {
        why.push(error.clone());
    } else if !d.dns.points_here {
        let seen: Vec<String> = d.dns.observed.iter().map(record_line).collect();
        let seen = if seen.is_empty() {
            "no CNAME, A or AAAA record".to_owned()
        } else {
            seen.join(", ")
        };
        let wanted: Vec<String> = d.dns.expected.iter().map(record_line).collect();
        why.push(format!(
            "DNS does not point here (found {seen}; expected {})",
            wanted.join(" or ")
        ));
    }
    if let Some(error) = d.certificate.as_ref().and_then(|c| c.error.clone()) {
        why.push(format!("HTTPS: {error}"));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// `CNAME shop.example.com → web-production.acme.example.net`.
fn record_line(record: &DnsRecord) -> String {
    format!(
        "{:<6} {} → {}",
        text(&record.kind),
        output::printable(&record.name),
        output::printable(&record.value)
    )
}

/// The slug of environment `id` of `project` (its id when not found).
fn env_slug(project: &ProjectView, id: &str) -> String {
    project
        .environments
        .iter()
        .find(|e| e.id == id)
        .map_or_else(|| output::printable(id), |e| text(&e.slug))
}
