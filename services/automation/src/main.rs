//! `kefu-automation`: the automation service, configured from the environment.

fn main() -> std::process::ExitCode {
    kefu_server::kit::main::<kefu_automation::AutomationService>()
}
