//! Classification: a ticket's urgency and impact give its priority through an admin-set matrix,
//! unless a client set the priority by hand.

use std::collections::BTreeMap;

use super::kinds::{Level, Priority, PrioritySource};
use super::ticket::TicketFields;

/// Every level, low to high.
pub const LEVELS: [Level; 3] = [Level::Low, Level::Medium, Level::High];

/// Which priority each (urgency, impact) pair gives; always all nine pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityMatrix(BTreeMap<(Level, Level), Priority>);

impl Default for PriorityMatrix {
    /// The usual ITIL matrix: the sum of the two levels decides.
    fn default() -> Self {
        let mut cells = BTreeMap::new();
        for urgency in LEVELS {
            for impact in LEVELS {
                let priority = match urgency.number() + impact.number() {
                    6 => Priority::Urgent,
                    5 => Priority::High,
                    4 => Priority::Normal,
                    _ => Priority::Low,
                };
                cells.insert((urgency, impact), priority);
            }
        }
        PriorityMatrix(cells)
    }
}

/// Why cells do not make a matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatrixError {
    /// A pair given twice, at this index.
    Repeated(usize),
    /// A pair not given.
    Missing(Level, Level),
}

impl PriorityMatrix {
    /// A matrix from cells naming every pair exactly once.
    pub fn from_cells(
        cells: impl IntoIterator<Item = (Level, Level, Priority)>,
    ) -> Result<Self, MatrixError> {
        let mut map = BTreeMap::new();
        for (i, (urgency, impact, priority)) in cells.into_iter().enumerate() {
            if map.insert((urgency, impact), priority).is_some() {
                return Err(MatrixError::Repeated(i));
            }
        }
        for urgency in LEVELS {
            for impact in LEVELS {
                if !map.contains_key(&(urgency, impact)) {
                    return Err(MatrixError::Missing(urgency, impact));
                }
            }
        }
        Ok(PriorityMatrix(map))
    }

    /// The cells, urgency then impact, low to high.
    pub fn cells(&self) -> impl Iterator<Item = (Level, Level, Priority)> + '_ {
        self.0.iter().map(|(&(u, i), &p)| (u, i, p))
    }

    /// The priority of `urgency` × `impact`.
    pub fn priority(&self, urgency: Level, impact: Level) -> Priority {
        self.0
            .get(&(urgency, impact))
            .copied()
            .unwrap_or(Priority::Normal)
    }
}

/// Whether settling `fields` reads the matrix: classified, and not set by hand.
pub fn needs_matrix(fields: &TicketFields) -> bool {
    !fields.priority_source.held() && fields.urgency.is_some() && fields.impact.is_some()
}

/// Settles `fields`' priority: a MANUAL or ESCALATION one stays; otherwise a classified ticket (urgency and
/// impact both set) takes the matrix's, and an unclassified one NORMAL — unless it came from the
/// matrix before and only lost a level, when it keeps what it had.
pub fn settle(fields: &mut TicketFields, matrix: &PriorityMatrix) {
    if fields.priority_source.held() {
        return;
    }
    match (fields.urgency, fields.impact) {
        (Some(urgency), Some(impact)) => {
            fields.priority = matrix.priority(urgency, impact);
            fields.priority_source = PrioritySource::Matrix;
        }
        _ if fields.priority_source == PrioritySource::Matrix => {}
        _ => {
            fields.priority = Priority::Normal;
            fields.priority_source = PrioritySource::Default;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(urgency: Option<Level>, impact: Option<Level>) -> TicketFields {
        TicketFields {
            urgency,
            impact,
            ..TicketFields::default()
        }
    }

    #[test]
    fn the_default_matrix_is_itils() {
        let m = PriorityMatrix::default();
        assert_eq!(m.priority(Level::High, Level::High), Priority::Urgent);
        assert_eq!(m.priority(Level::High, Level::Medium), Priority::High);
        assert_eq!(m.priority(Level::Medium, Level::High), Priority::High);
        assert_eq!(m.priority(Level::Low, Level::High), Priority::Normal);
        assert_eq!(m.priority(Level::Medium, Level::Medium), Priority::Normal);
        assert_eq!(m.priority(Level::Medium, Level::Low), Priority::Low);
        assert_eq!(m.cells().count(), 9);
    }

    #[test]
    fn a_matrix_needs_every_pair_once() {
        let all: Vec<_> = PriorityMatrix::default().cells().collect();
        assert!(PriorityMatrix::from_cells(all.clone()).is_ok());
        assert_eq!(
            PriorityMatrix::from_cells(all[1..].to_vec()),
            Err(MatrixError::Missing(Level::Low, Level::Low))
        );
        let mut twice = all.clone();
        twice.push(all[0]);
        assert_eq!(
            PriorityMatrix::from_cells(twice),
            Err(MatrixError::Repeated(9))
        );
    }

    #[test]
    fn manual_wins_classification_decides_otherwise() {
        let m = PriorityMatrix::default();
        let mut f = fields(Some(Level::High), Some(Level::High));
        settle(&mut f, &m);
        assert_eq!(
            (f.priority, f.priority_source),
            (Priority::Urgent, PrioritySource::Matrix)
        );
        // Losing a level keeps the matrix's last word.
        f.impact = None;
        settle(&mut f, &m);
        assert_eq!(f.priority, Priority::Urgent);
        // A hand-set priority stays whatever the levels say.
        f.priority = Priority::Low;
        f.priority_source = PrioritySource::Manual;
        f.impact = Some(Level::High);
        settle(&mut f, &m);
        assert_eq!(f.priority, Priority::Low);
        let mut unclassified = fields(Some(Level::High), None);
        settle(&mut unclassified, &m);
        assert_eq!(
            (unclassified.priority, unclassified.priority_source),
            (Priority::Normal, PrioritySource::Default)
        );
    }
}
