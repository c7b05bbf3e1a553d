//! `kefu-customers`: the customers service, configured from the environment.

fn main() -> std::process::ExitCode {
    kefu_server::kit::main::<kefu_customers::Customers>()
}
