//! The Prometheus text exposition format (version 0.0.4): metric families with their help
//! and type, samples with escaped label values.

use std::fmt::Write;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Default)]
pub struct Exposition {
    text: String,
}

/// What a family of samples is.
#[derive(Clone, Copy)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

impl Exposition {
    /// Starts the family `name`: its help line and type. Its samples follow.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.as_str());
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
    }

    pub fn into_text(self) -> String {
        self.text
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Whole numbers without a fraction; infinities as Prometheus spells them.
pub fn number(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_samples_are_written_as_prometheus_reads_them() {
        let mut e = Exposition::default();
        e.family("scimsync_x_total", Kind::Counter, "Things\ncounted.");
        e.sample("scimsync_x_total", &[("pipe", "a \"b\"\\c\nd")], 3.0);
        e.sample("scimsync_y", &[], 0.25);
        e.sample("scimsync_z_bucket", &[("le", &number(f64::INFINITY))], 7.0);
        assert_eq!(
            e.into_text(),
            "# HELP scimsync_x_total Things\\ncounted.\n# TYPE scimsync_x_total counter\n\
             scimsync_x_total{pipe=\"a \\\"b\\\"\\\\c\\nd\"} 3\nscimsync_y 0.25\n\
             scimsync_z_bucket{le=\"+Inf\"} 7\n"
        );
    }
}
