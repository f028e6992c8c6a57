//! Follow-up tasks (`/guide/tasks`): the guide's open follow-ups, overdue first and then those
//! still due, each linking to its customer and marked done from the page.

use axum::{extract::State, response::Html};
use chrono::Utc;
use minijinja::{Value, context};

use super::failed;
use crate::{
    AppState,
    routes::workbench::TaskCardOut,
    ui::page::{Staff, UiError},
};

pub async fn board(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, UiError> {
    let (app, ctx, lang) = (&state.app, &staff.ctx, staff.lang);
    let board = app.guide_task_board(ctx, ctx.actor.staff_id, Utc::now()).await.map_err(failed(lang))?;
    let (overdue, due): (Vec<_>, Vec<_>) = board.iter().map(TaskCardOut::from).partition(|t| t.overdue);
    staff.render(
        "guide/tasks.html",
        context! {
            section => "tasks",
            overdue => Value::from_serialize(&overdue),
            due => Value::from_serialize(&due),
        },
    )
}
