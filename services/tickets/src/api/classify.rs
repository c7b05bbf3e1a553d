//! The priority matrix over the wire.

use kefu_proto::tickets::v1 as pb;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow};
use crate::domain::access::Action;
use crate::domain::classify::{MatrixError, PriorityMatrix};
use crate::domain::kinds::{Level, Priority};

fn matrix_out(matrix: &PriorityMatrix) -> pb::PriorityMatrix {
    pb::PriorityMatrix {
        cells: matrix
            .cells()
            .map(|(urgency, impact, priority)| pb::PriorityCell {
                urgency: urgency.number(),
                impact: impact.number(),
                priority: priority.number(),
            })
            .collect(),
    }
}

pub(super) async fn get_matrix(
    api: &TicketsApi,
    request: Request<pb::GetPriorityMatrixRequest>,
) -> Rpc<pb::PriorityMatrix> {
    allow(&principal_of(&request)?, Action::ReadTeam)?;
    let matrix = api.ops.priority_matrix().await?;
    Ok(Response::new(matrix_out(&matrix)))
}

pub(super) async fn update_matrix(
    api: &TicketsApi,
    request: Request<pb::UpdatePriorityMatrixRequest>,
) -> Rpc<pb::PriorityMatrix> {
    allow(&principal_of(&request)?, Action::Configure)?;
    let input = request.get_ref().matrix.clone().unwrap_or_default();
    let mut v = Violations::new();
    let mut cells = Vec::new();
    for (i, cell) in input.cells.iter().enumerate() {
        let at = |name: &str| format!("matrix.cells[{i}].{name}");
        let urgency =
            validate::required_enum(cell.urgency, Level::from_number, &at("urgency"), &mut v);
        let impact =
            validate::required_enum(cell.impact, Level::from_number, &at("impact"), &mut v);
        let priority = validate::required_enum(
            cell.priority,
            Priority::from_number,
            &at("priority"),
            &mut v,
        );
        if let (Some(u), Some(i), Some(p)) = (urgency, impact, priority) {
            cells.push((u, i, p));
        }
    }
    v.into_result()?;
    let matrix = PriorityMatrix::from_cells(cells).map_err(|e| {
        let mut v = Violations::new();
        match e {
            MatrixError::Repeated(i) => v.add(
                format!("matrix.cells[{i}]"),
                "repeats an urgency × impact pair",
            ),
            MatrixError::Missing(u, i) => v.add(
                "matrix.cells",
                format!(
                    "has no cell for urgency {} × impact {}",
                    u.label(),
                    i.label()
                ),
            ),
        }
        v
    })?;
    let matrix = api.ops.set_priority_matrix(matrix).await?;
    Ok(Response::new(matrix_out(&matrix)))
}
