//! No two served widgets answer one path differently: a widget's endpoint, its options
//! endpoints and a live_grid's `wsEndpoint` are each checked against those already served,
//! and against the paths below an advanced chart's endpoint (its UDF routes).

use super::Manifest;
use super::backend::Refusal;
use super::model::{Kind, OptionsRoute, Widget};

impl Manifest {
    /// Two widgets (or options endpoints) may share a path only when they answer it alike.
    pub(super) fn check_clashes(
        &self,
        widget: &Widget,
        options: &[OptionsRoute],
    ) -> Result<(), Refusal> {
        if let Some(other) = self.widgets.iter().find(|w| w.endpoint == widget.endpoint)
            && (Widget {
                id: other.id.clone(),
                ..widget.clone()
            }) != *other
        {
            return Err((
                "endpoint",
                format!(
                    "'{}' is already served by widget '{}' with other backend settings",
                    widget.endpoint, other.id
                ),
            ));
        }
        if let Some(other) = self.live_grid_at(&widget.endpoint) {
            return Err((
                "endpoint",
                format!(
                    "'{}' is already the wsEndpoint of widget '{}'",
                    widget.endpoint, other.widget.id
                ),
            ));
        }
        if let Kind::LiveGrid { socket: live, .. } = &widget.kind {
            let taken = self
                .answering(&live.endpoint)
                .map(|w| &w.id)
                .or_else(|| self.options_at(&live.endpoint).map(|r| &r.widget))
                .or_else(|| {
                    self.live_grid_at(&live.endpoint)
                        .filter(|other| other.widget.endpoint != widget.endpoint)
                        .map(|other| &other.widget.id)
                });
            if live.endpoint == widget.endpoint || taken.is_some() {
                return Err((
                    "wsEndpoint",
                    format!(
                        "'{}' is already answered otherwise (by widget '{}')",
                        live.endpoint,
                        taken.unwrap_or(&widget.id)
                    ),
                ));
            }
        }
        if let Some(route) = self.options_at(&widget.endpoint) {
            return Err((
                "endpoint",
                format!(
                    "'{}' is already an options endpoint of widget '{}'",
                    widget.endpoint, route.widget
                ),
            ));
        }
        for route in options {
            let taken = self.answering(&route.endpoint).map(|w| &w.id).or_else(|| {
                self.options_at(&route.endpoint)
                    .filter(|other| other.source != route.source)
                    .map(|other| &other.widget)
            });
            if route.endpoint == widget.endpoint || taken.is_some() {
                return Err((
                    "backend.options",
                    format!(
                        "options endpoint '{}' is already answered otherwise (by widget '{}')",
                        route.endpoint,
                        taken.unwrap_or(&widget.id)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The widget answering `path`: the one whose endpoint it is, or the one whose endpoint is
    /// its parent when that widget's type has routes below its endpoint (`router.rs` decides
    /// which of them exist; none of those paths may be another endpoint's).
    fn answering(&self, path: &str) -> Option<&Widget> {
        self.widget_at(path).or_else(|| {
            let (parent, _) = path.rsplit_once('/')?;
            self.widget_at(parent)
                .filter(|w| w.kind.widget_type().has_routes_below())
        })
    }
}
