//! The command line of `shipyard domains …`; a domain is named by its hostname or `dom_…` id.

use super::args::Target;
use clap::{Args, Subcommand};

/// The project a domain command is about.
#[derive(Debug, Clone, Args)]
pub struct DomainProject {
    /// The project, id or slug (default: `project` in shipyard.toml).
    #[arg(long, short)]
    pub project: Option<String>,
}

impl DomainProject {
    /// As a target (the environment is not used).
    pub fn target(&self) -> Target {
        Target {
            project: self.project.clone(),
            env: String::new(),
        }
    }
}

/// `domains …`.
#[derive(Debug, Subcommand)]
pub enum DomainsCommand {
    /// A project's custom domains: status, whether DNS points here, and why one is not live.
    ///
    /// Example: `shipyard domains list --project web`
    List(DomainProject),
    /// Add a hostname to an environment; prints the DNS records to create.
    ///
    /// Example: `shipyard domains add shop.example.com --project web`
    Add {
        /// The hostname (Unicode names are fine).
        hostname: String,
        /// Project and environment (default: production).
        #[command(flatten)]
        target: Target,
    },
    /// Look the domain's TXT record up now; exits 1 while it is not verified, saying why.
    ///
    /// Example: `shipyard domains verify shop.example.com --project web`
    Verify {
        /// Hostname or id.
        domain: String,
        /// The project.
        #[command(flatten)]
        project: DomainProject,
    },
    /// Remove a domain; it stops being served at once.
    ///
    /// Example: `shipyard domains remove shop.example.com --project web`
    Remove {
        /// Hostname or id.
        domain: String,
        /// The project.
        #[command(flatten)]
        project: DomainProject,
    },
}
