//! `kefu-tickets`: the tickets service, configured from the environment.

fn main() -> std::process::ExitCode {
    kefu_server::kit::main::<kefu_tickets::Tickets>()
}
