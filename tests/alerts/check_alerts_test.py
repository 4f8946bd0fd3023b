#!/usr/bin/env python3
"""Shows that check_alerts.py catches each convention it enforces: every case breaks one
thing in a copy of alerts/ and expects that error. Usage: check_alerts_test.py <alerts-dir>"""

import contextlib
import io
import pathlib
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check_alerts  # noqa: E402

ALERTS_DIR = None


class CheckAlertsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name) / "alerts"
        shutil.copytree(ALERTS_DIR, self.dir)

    def tearDown(self):
        self.tmp.cleanup()

    def run_check(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = check_alerts.main(["check_alerts.py", str(self.dir)])
        return code, err.getvalue()

    def edit(self, relative, old, new):
        path = self.dir / relative
        text = path.read_text()
        self.assertIn(old, text)
        path.write_text(text.replace(old, new, 1))

    def assert_fails_with(self, fragment):
        code, err = self.run_check()
        self.assertEqual(code, 1, err)
        self.assertIn(fragment, err)

    def test_passes_unchanged(self):
        code, err = self.run_check()
        self.assertEqual(code, 0, err)

    def test_missing_runbook(self):
        (self.dir / "runbooks" / "CoreDown.md").unlink()
        self.assert_fails_with("CoreDown: no runbook")

    def test_runbook_without_section(self):
        self.edit("runbooks/GatewayDown.md", "## Impact", "## Effect")
        self.assert_fails_with("GatewayDown.md: sections are")

    def test_runbook_url_of_another_alert(self):
        self.edit("holomush.rules.yaml", "runbooks/CoreDown.md", "runbooks/GatewayDown.md")
        self.assert_fails_with("rule CoreDown: runbook_url")

    def test_summary_without_period(self):
        self.edit("holomush.rules.yaml", "summary: HoloMUSH core is down.", "summary: HoloMUSH core is down")
        self.assert_fails_with("rule CoreDown: summary does not end in a period")

    def test_unknown_severity(self):
        self.edit("holomush.rules.yaml", "severity: warning", "severity: page")
        self.assert_fails_with("is not one of")

    def test_guide_rule_changed(self):
        self.edit("holomush.rules.yaml", '"Alias database-cache inconsistency detected"',
                  '"Alias database-cache inconsistency detected."')
        self.assert_fails_with("rule AliasRollbackFailure: summary")

    def test_orphan_runbook(self):
        (self.dir / "runbooks" / "Retired.md").write_text("# Retired\n")
        self.assert_fails_with("Retired.md: no alert of that name")

    def test_alert_missing_from_readme(self):
        self.edit("README.md", "(runbooks/BackupTooOld.md)", "(runbooks/BackupTooOld)")
        self.assert_fails_with("does not link runbooks/BackupTooOld.md")

    def test_alert_without_before_threshold_test(self):
        self.edit("tests/operator.test.yaml",
                  "      - eval_time: 15m\n        alertname: OperatorReconcileErrors\n        exp_alerts: []\n", "")
        self.edit("tests/operator.test.yaml",
                  "      - eval_time: 30m\n        alertname: OperatorReconcileErrors\n        exp_alerts: []\n", "")
        self.assert_fails_with("OperatorReconcileErrors: no promtool evaluation expecting no alert")


if __name__ == "__main__":
    ALERTS_DIR = pathlib.Path(sys.argv.pop(1)).resolve()
    unittest.main()
