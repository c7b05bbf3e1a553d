//! `kefu-knowledge`: the knowledge base service, configured from the environment.

fn main() -> std::process::ExitCode {
    kefu_server::kit::main::<kefu_knowledge::Knowledge>()
}
