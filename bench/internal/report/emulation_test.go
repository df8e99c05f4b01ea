// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package report

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/nalloc/nalloc/internal/platform"
)

// TestTableSaysEmulated checks that a report taken under emulation says
// so on its second line, and that one from real hardware does not.
func TestTableSaysEmulated(t *testing.T) {
	for _, emulated := range []string{"", "WARNING: the CPU is emulated (test)"} {
		rep := testReport(t)
		rep.Machine.Emulated = emulated
		var b bytes.Buffer
		if err := writeTable(&b, rep); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(b.String(), "\n")
		if got := strings.Contains(b.String(), "WARNING"); got != (emulated != "") {
			t.Errorf("Machine.Emulated %q: table says WARNING: %v:\n%s", emulated, got, b.String())
		}
		if emulated != "" && lines[1] != emulated {
			t.Errorf("the warning is not the line under the header:\n%s", b.String())
		}
	}
}

// TestThisRunSaysEmulated checks that the machine the shoot-out reports
// carries the warning exactly when this process is emulated, which make
// test-arm64 makes it (NALLOC_EXPECT_EMULATED=1). The probe's tests check
// its output.
func TestThisRunSaysEmulated(t *testing.T) {
	emulated := platform.Emulation() != ""
	if want := os.Getenv("NALLOC_EXPECT_EMULATED"); want != "" && emulated != (want == "1") {
		t.Fatalf("platform.Emulation() = %q, but the harness says NALLOC_EXPECT_EMULATED=%s", platform.Emulation(), want)
	}
	if m := ThisMachine(); (m.Emulated != "") != emulated || (emulated && !strings.Contains(m.Emulated, "mean nothing")) {
		t.Errorf("emulated %v, ThisMachine().Emulated = %q", emulated, m.Emulated)
	}
}
