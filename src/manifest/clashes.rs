//! No two served widgets answer one path differently: a widget's endpoint, its options
//! endpoints and a live_grid's `wsEndpoint` are each checked against those already served.

use super::Manifest;
use super::backend::Refusal;
use super::model::{OptionsRoute, Widget};

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
        if let Some(other) = self.live_for(&widget.endpoint) {
            return Err((
                "endpoint",
                format!(
                    "'{}' is already the wsEndpoint of widget '{}'",
                    widget.endpoint, other.id
                ),
            ));
        }
        if let Some(live) = &widget.live {
            let taken = self
                .widget_for(&live.endpoint)
                .map(|w| &w.id)
                .or_else(|| self.options_for(&live.endpoint).map(|r| &r.widget))
                .or_else(|| {
                    self.live_for(&live.endpoint)
                        .filter(|w| w.endpoint != widget.endpoint)
                        .map(|w| &w.id)
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
        if let Some(route) = self.options_for(&widget.endpoint) {
            return Err((
                "endpoint",
                format!(
                    "'{}' is already an options endpoint of widget '{}'",
                    widget.endpoint, route.widget
                ),
            ));
        }
        for route in options {
            let taken = self.widget_for(&route.endpoint).map(|w| &w.id).or_else(|| {
                self.options_for(&route.endpoint)
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
}
