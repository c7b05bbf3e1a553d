//! Who may do what (the table in `automation_service.proto`).

use kefu_principal::{Principal, Role};

/// Everything that needs a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create, change and delete triggers.
    Configure,
    /// Read triggers and firings, and dry-run triggers.
    Read,
    /// Follow the event stream.
    WatchEvents,
    /// See, preview and apply macros, and keep one's own (what else is kept is the macro's call).
    UseMacros,
}

/// Checks a principal against an action. Exhaustive on purpose: a new role or action forces a decision.
pub fn authorize(principal: &Principal, action: Action) -> Result<(), String> {
    let allowed = match (principal.role, action) {
        (Role::Admin, _) | (Role::Agent | Role::Integration, Action::Read | Action::UseMacros) => {
            true
        }
        (Role::Integration, Action::WatchEvents) => true,
        (Role::Agent, Action::Configure | Action::WatchEvents)
        | (Role::Integration, Action::Configure)
        | (Role::Customer, _) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(format!("role {} may not {action:?}", principal.role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_configure_and_customers_do_nothing() {
        let as_role = |role| Principal::new("p", role);
        assert!(authorize(&as_role(Role::Admin), Action::Configure).is_ok());
        assert!(authorize(&as_role(Role::Agent), Action::Configure).is_err());
        assert!(authorize(&as_role(Role::Agent), Action::Read).is_ok());
        assert!(authorize(&as_role(Role::Integration), Action::WatchEvents).is_ok());
        assert!(authorize(&as_role(Role::Agent), Action::WatchEvents).is_err());
        assert!(authorize(&Principal::customer("c"), Action::Read).is_err());
        assert!(authorize(&as_role(Role::Agent), Action::UseMacros).is_ok());
        assert!(authorize(&Principal::customer("c"), Action::UseMacros).is_err());
    }
}
