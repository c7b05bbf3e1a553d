//! The domain side of `kefu.common.v1`: the channels, tiers and lifecycle stages several
//! services reason about, defined once.

crate::numbered_enum! {
    /// Where a customer got in touch, or a reply went out.
    pub enum Channel : "CHANNEL_" {
        /// Email.
        Email = 1 "EMAIL",
        /// The web site or help center.
        Web = 2 "WEB",
        /// A phone call.
        Phone = 3 "PHONE",
        /// Live chat or messaging.
        Chat = 4 "CHAT",
        /// Social media.
        Social = 5 "SOCIAL",
        /// Another system, through the API.
        Api = 6 "API",
        /// Face to face.
        InPerson = 7 "IN_PERSON",
    }
}

crate::numbered_enum! {
    /// How much service a customer is entitled to.
    pub enum Tier : "TIER_" {
        /// The default tier.
        Standard = 1 "STANDARD",
        /// Better than standard.
        Silver = 2 "SILVER",
        /// Better than silver.
        Gold = 3 "GOLD",
        /// The most valuable customers.
        Vip = 4 "VIP",
    }
}

crate::numbered_enum! {
    /// Where a customer is in their relationship with the company.
    pub enum LifecycleStage : "LIFECYCLE_STAGE_" {
        /// A prospect.
        Lead = 1 "LEAD",
        /// Just started.
        New = 2 "NEW",
        /// Buys or uses the product regularly.
        Active = 3 "ACTIVE",
        /// A long-standing, repeat customer.
        Loyal = 4 "LOYAL",
        /// Showing signs of leaving.
        AtRisk = 5 "AT_RISK",
        /// Has left.
        Churned = 6 "CHURNED",
    }
}

#[cfg(test)]
mod tests {
    use kefu_proto::common::v1 as pb;

    use super::*;
    use crate::numbered::assert_matches_contract;

    #[test]
    fn the_shared_enums_match_kefu_common_v1() {
        let name = |n: i32| pb::Channel::try_from(n).ok().map(|c| c.as_str_name());
        assert_matches_contract(&crate::numbered_pairs!(Channel), name);
        let name = |n: i32| pb::Tier::try_from(n).ok().map(|c| c.as_str_name());
        assert_matches_contract(&crate::numbered_pairs!(Tier), name);
        let name = |n: i32| {
            pb::LifecycleStage::try_from(n)
                .ok()
                .map(|c| c.as_str_name())
        };
        assert_matches_contract(&crate::numbered_pairs!(LifecycleStage), name);
        assert_eq!(Channel::from_number(0), None);
        assert_eq!(Tier::from_label("VIP"), Some(Tier::Vip));
        assert_eq!(Tier::Vip.name(), "TIER_VIP");
    }
}
