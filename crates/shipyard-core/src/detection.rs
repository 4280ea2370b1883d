//! What detection concluded about a repository, and the evidence for it.

use crate::{PackageManager, ProjectType};
use serde::{Deserialize, Serialize};

/// What detection concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Detection {
    /// The project type, or None when nothing recognisable was found.
    #[serde(rename = "type")]
    pub project_type: Option<ProjectType>,
    /// Whether the app runs a server process.
    pub runs_server: bool,
    /// Installs dependencies.
    pub install_command: Option<String>,
    /// Builds the app.
    pub build_command: Option<String>,
    /// Starts the server.
    pub start_command: Option<String>,
    /// Directory with the files to serve (static/react).
    pub output_directory: Option<String>,
    /// The package manager.
    pub package_manager: Option<PackageManager>,
    /// Its version, where the repository pins or implies one (`9`, `8.15.1`).
    pub package_manager_version: Option<String>,
    /// Node.js version wanted.
    pub node_version: Option<String>,
    /// Python version wanted.
    pub python_version: Option<String>,
    /// Port the server listens on by convention (the platform also sets `PORT`).
    pub port: Option<u16>,
    /// The framework recognised.
    pub framework: Option<String>,
    /// One sentence per fact used.
    pub evidence: Vec<String>,
    /// 0.0 to 1.0: how sure detection is.
    pub confidence: f64,
}

impl Detection {
    /// Nothing recognised yet.
    pub fn unknown() -> Self {
        Self {
            project_type: None,
            runs_server: false,
            install_command: None,
            build_command: None,
            start_command: None,
            output_directory: None,
            package_manager: None,
            package_manager_version: None,
            node_version: None,
            python_version: None,
            port: None,
            framework: None,
            evidence: Vec::new(),
            confidence: 0.0,
        }
    }

    /// Records the project type and framework recognised.
    pub fn classify(&mut self, project_type: ProjectType, framework: &str) {
        self.project_type = Some(project_type);
        self.runs_server = project_type.runs_server();
        self.framework = Some(framework.to_owned());
    }

    /// Records one fact used.
    pub fn say(&mut self, sentence: impl Into<String>) {
        self.evidence.push(sentence.into());
    }
}
