//! What a rule may change of a ticket's requester in the customers service.

use serde::{Deserialize, Serialize};

/// A change to a ticket's requester in the customers service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequesterChange {
    /// The lifecycle stage to set, written without its prefix (`AT_RISK`); "" leaves it.
    pub lifecycle_stage: String,
    /// Tags to add.
    pub add_tags: Vec<String>,
    /// Tags to remove.
    pub remove_tags: Vec<String>,
    /// The bare customer id: "" in a rule, the requester's in a firing.
    #[serde(default)]
    pub customer: String,
}

/// The lifecycle stages a rule may set, as written.
pub const LIFECYCLE_STAGES: [&str; 6] = ["LEAD", "NEW", "ACTIVE", "LOYAL", "AT_RISK", "CHURNED"];
