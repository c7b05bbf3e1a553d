//! Who may call what: the role × RPC table of `customer_service.proto`, as code.

use kefu_principal::{Principal, Role};

/// Every RPC, as far as authorization is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Action {
    CreateCustomer,
    GetCustomer,
    BatchGetCustomers,
    ListCustomers,
    UpdateCustomer,
    DeleteCustomer,
    UpsertCustomerByExternalId,
    ImportCustomers,
    MergeCustomers,
    UnmergeCustomer,
    ExportCustomer,
    EraseCustomer,
    CreateOrganization,
    GetOrganization,
    ListOrganizations,
    UpdateOrganization,
    DeleteOrganization,
    RecordPurchase,
    ListPurchases,
    LogInteraction,
    ListInteractions,
    WatchEvents,
}

/// What a role may do with an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Not at all.
    Denied,
    /// On any customer.
    Any,
    /// Only on the customer the principal is.
    OwnProfile,
}

/// The table. Kept exhaustive (no `_` arm for actions) so a new RPC forces a decision.
pub fn grant(role: Role, action: Action) -> Grant {
    use Action::*;
    use Grant::*;
    match role {
        Role::Admin => Any,
        Role::Agent => match action {
            CreateCustomer | GetCustomer | BatchGetCustomers | ListCustomers | UpdateCustomer
            | CreateOrganization | GetOrganization | ListOrganizations | UpdateOrganization
            | RecordPurchase | ListPurchases | LogInteraction | ListInteractions => Any,
            DeleteCustomer
            | UpsertCustomerByExternalId
            | ImportCustomers
            | MergeCustomers
            | UnmergeCustomer
            | ExportCustomer
            | EraseCustomer
            | DeleteOrganization
            | WatchEvents => Denied,
        },
        Role::Integration => match action {
            CreateCustomer
            | GetCustomer
            | BatchGetCustomers
            | ListCustomers
            | UpdateCustomer
            | UpsertCustomerByExternalId
            | ImportCustomers
            | ExportCustomer
            | CreateOrganization
            | GetOrganization
            | ListOrganizations
            | UpdateOrganization
            | RecordPurchase
            | ListPurchases
            | LogInteraction
            | ListInteractions
            | WatchEvents => Any,
            DeleteCustomer | MergeCustomers | UnmergeCustomer | EraseCustomer
            | DeleteOrganization => Denied,
        },
        Role::Customer => match action {
            GetCustomer | UpdateCustomer | ExportCustomer | ListPurchases => OwnProfile,
            CreateCustomer
            | BatchGetCustomers
            | ListCustomers
            | DeleteCustomer
            | UpsertCustomerByExternalId
            | ImportCustomers
            | MergeCustomers
            | UnmergeCustomer
            | EraseCustomer
            | CreateOrganization
            | GetOrganization
            | ListOrganizations
            | UpdateOrganization
            | DeleteOrganization
            | RecordPurchase
            | LogInteraction
            | ListInteractions
            | WatchEvents => Denied,
        },
    }
}

/// Fields a customer may change on their own profile.
pub const SELF_SERVICE_FIELDS: &[&str] = &["display_name", "phones", "locale", "time_zone"];

/// Why a call is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

/// Checks that `principal` may perform `action`, on `customer_id` when the action concerns one.
pub fn authorize(
    principal: &Principal,
    action: Action,
    customer_id: Option<&str>,
) -> Result<(), Denied> {
    match grant(principal.role, action) {
        Grant::Any => Ok(()),
        Grant::OwnProfile
            if customer_id.is_some() && principal.customer_id.as_deref() == customer_id =>
        {
            Ok(())
        }
        Grant::OwnProfile => Err(Denied(format!(
            "a customer may {action:?} only on their own profile"
        ))),
        Grant::Denied => Err(Denied(format!(
            "role {} may not {action:?}",
            principal.role
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_acts_only_on_their_own_profile() {
        let me = Principal::customer("c1");
        assert!(authorize(&me, Action::GetCustomer, Some("c1")).is_ok());
        assert!(authorize(&me, Action::GetCustomer, Some("c2")).is_err());
        assert!(authorize(&me, Action::GetCustomer, None).is_err());
        assert!(authorize(&me, Action::ListCustomers, None).is_err());
    }

    #[test]
    fn admins_may_do_everything_and_agents_may_not_erase_or_merge() {
        let admin = Principal::new("a", Role::Admin);
        let agent = Principal::new("g", Role::Agent);
        for action in [
            Action::EraseCustomer,
            Action::MergeCustomers,
            Action::DeleteCustomer,
        ] {
            assert!(authorize(&admin, action, Some("x")).is_ok());
            assert!(authorize(&agent, action, Some("x")).is_err());
        }
    }
}
