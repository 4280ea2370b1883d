//! Running untrusted build steps: the sandbox (bubblewrap as an unprivileged user), resource
//! limits (a `Limiter` chosen by what the host offers), and one step's execution with its
//! output streamed, redacted, line by line.

mod limiter;
mod plan;
mod sandbox;
mod step;
mod toolchain;

pub use limiter::{LimitGroup, Limiter, Limits};
pub use plan::{Plan, PlanError, Step, check_node_version};
pub use sandbox::{Sandbox, SandboxError, SandboxedCommand};
pub use step::{OutputLine, StepContext, StepOutcome, run_step};
pub use toolchain::{Toolchain, toolchain};
