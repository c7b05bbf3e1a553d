//! `kefu-feedback`: the feedback service, configured from the environment.

fn main() -> std::process::ExitCode {
    kefu_server::kit::main::<kefu_feedback::Feedback>()
}
