//! Running build steps: where a build's directories appear in the sandbox
//! (`shipyard-sandbox` runs them), the plan, and one step's execution with its output
//! streamed, redacted, line by line.

mod layout;
mod plan;
mod step;
mod toolchain;

pub use layout::{APP_DIR, CACHE_DIR, HOME_DIR, build_disk, paths, step_command};
pub use plan::{Plan, PlanError, Step, check_node_version};
pub use shipyard_sandbox::{LimitGroup, Limiter, Limits, Sandbox, SandboxConfig, SandboxError, SandboxedCommand};
pub use step::{OutputLine, StepContext, StepOutcome, run_step};
pub use toolchain::{Toolchain, toolchain};
