#!/usr/bin/env python3
"""Shows that live_metrics.py catches what it is for: a metric, label or label value the
rules read that the process does not export, and an exported name the docs lack. The rules
are the real alerts/holomush.rules.yaml; the scrapes are small and written here.
Usage: live_metrics_test.py <alerts-dir> <metrics.md>"""

import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import live_metrics  # noqa: E402

RULES = None
DOCS = None

# Enough of a core's /metrics for the core rules.
CORE = """# HELP holomush_ready 1 while ready
# TYPE holomush_ready gauge
holomush_ready 1
holomush_build_info{component="core",version="0.1.0"} 1
holomush_tls_certificate_not_after_timestamp_seconds{certificate="core"} 1.8e9
holomush_alias_rollback_failures_total 0
holomush_sessions_active 2
holomush_grpc_requests_total{method="/holomush.core.v1.Game/Login",code="OK"} 3
holomush_grpc_latency_seconds_bucket{method="/holomush.core.v1.Game/Login",le="0.1"} 3
holomush_commands_total{command="say"} 4
holomush_commands_total{command="pose"} 0
holomush_events_total{type="say"} 4
"""


def core_selectors_checked(scrape, docs=None):
    return live_metrics.check(RULES, DOCS if docs is None else docs,
                              {"core": live_metrics.parse_scrape(scrape)})


class LiveMetricsTest(unittest.TestCase):
    def test_a_core_that_exports_what_the_rules_read_passes(self):
        checked, errors = core_selectors_checked(CORE)
        self.assertGreater(checked, 5)
        self.assertEqual(errors, [])

    def test_a_renamed_metric_is_caught(self):
        renamed = CORE.replace("holomush_sessions_active", "holomush_sessions_live")
        _, errors = core_selectors_checked(renamed, docs=DOCS + " `holomush_sessions_live`")
        self.assertTrue(any("holomush_sessions_active" in e and "no such series" in e for e in errors),
                        errors)

    def test_a_renamed_label_is_caught(self):
        _, errors = core_selectors_checked(CORE.replace('command="', 'cmd="'))
        self.assertTrue(any("label command" in e for e in errors), errors)

    def test_a_label_value_the_rule_matches_is_required(self):
        _, errors = core_selectors_checked(CORE.replace('command="say"', 'command="Say"')
                                           .replace('command="pose"', 'command="Pose"'))
        self.assertTrue(any('command=~"say|pose"' in e for e in errors), errors)

    def test_error_codes_not_yet_seen_pass_when_spelt_like_the_ones_there(self):
        _, errors = core_selectors_checked(CORE)
        self.assertEqual(errors, [])
        _, errors = core_selectors_checked(CORE.replace('code="OK"', 'code="ok"'))
        self.assertTrue(any("spelt otherwise" in e and "code" in e for e in errors), errors)

    def test_a_grouping_label_no_series_carries_is_caught(self):
        _, errors = core_selectors_checked(CORE.replace('method="', 'rpc="'))
        self.assertTrue(any("groups by method" in e for e in errors), errors)

    def test_an_undocumented_export_is_caught(self):
        _, errors = core_selectors_checked(CORE + "holomush_mystery_total 1\n")
        self.assertTrue(any("holomush_mystery_total" in e and "lacks" in e for e in errors), errors)

    def test_nothing_checked_is_a_failure(self):
        checked, _ = live_metrics.check(RULES, DOCS, {})
        self.assertEqual(checked, 0)


if __name__ == "__main__":
    alerts_dir = pathlib.Path(sys.argv[1])
    RULES = (alerts_dir / "holomush.rules.yaml").read_text(encoding="utf-8")
    DOCS = pathlib.Path(sys.argv[2]).read_text(encoding="utf-8")
    unittest.main(argv=[sys.argv[0]])
