//! Domain enums that carry the numbers their proto enums use on the wire and in the database,
//! so `domain/` code never touches generated types. Each service's `api/convert.rs` tests that its
//! enums' numbers and labels match the contract's.

/// Declares an enum whose variants have fixed numbers (never 0: that is the proto's UNSPECIFIED),
/// labels (the proto value's name without the enum's prefix) and names (with it), with `ALL`,
/// `number`, `from_number`, `label`, `from_label` and `name`.
#[macro_export]
macro_rules! numbered_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $prefix:literal {
            $($(#[$variant_meta:meta])* $variant:ident = $number:literal $label:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            /// Every value, in number order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The number on the wire and in the database.
            pub fn number(self) -> i32 {
                match self {
                    $($name::$variant => $number),+
                }
            }

            /// The value with this number; `None` for 0 (unspecified) and unknown numbers.
            pub fn from_number(number: i32) -> Option<Self> {
                match number {
                    $($number => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The contract's name of the value without its prefix, like `VIP` for `TIER_VIP`.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            /// The contract's full name of the value, like `TIER_VIP`.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => concat!($prefix, $label)),+
                }
            }

            /// The value with this full name, like `TIER_VIP`.
            pub fn from_name(name: &str) -> Option<Self> {
                name.strip_prefix($prefix).and_then(Self::from_label)
            }

            /// The value with this label.
            pub fn from_label(label: &str) -> Option<Self> {
                match label {
                    $($label => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

/// Asserts that a domain enum and its proto enum agree on every number and name, and that the
/// proto has no value the domain lacks; for the contract tests of each service's `api/convert.rs`.
#[track_caller]
pub fn assert_matches_contract(
    all: &[(i32, &'static str)],
    proto_name: impl Fn(i32) -> Option<&'static str>,
) {
    for (number, name) in all {
        assert_eq!(proto_name(*number), Some(*name), "number {number}");
    }
    let known = (1..=all.len() as i32 + 16)
        .filter(|n| proto_name(*n).is_some())
        .count();
    assert_eq!(
        known,
        all.len(),
        "the proto has values the domain enum lacks"
    );
}

/// The `(number, name)` pairs of a numbered enum, for [`assert_matches_contract`].
#[macro_export]
macro_rules! numbered_pairs {
    ($name:ty) => {
        <$name>::ALL
            .iter()
            .map(|value| (value.number(), value.name()))
            .collect::<Vec<_>>()
    };
}
