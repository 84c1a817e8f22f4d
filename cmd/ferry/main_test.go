package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ferryBin builds the command once per test binary.
var ferryBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ferry-bin")
	if err != nil {
		panic(err)
	}
	ferryBin = filepath.Join(dir, "ferry")
	out, err := exec.Command("go", "build", "-o", ferryBin, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func ferry(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ferryBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestTwoProcesses runs the built binary as a hub and as a sender on
// 127.0.0.1 and checks the summary and the tree.
func TestTwoProcesses(t *testing.T) {
	hubState, devState, root, src := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	files := map[string]string{
		"zz/state/alarm.json": `{"alarm":true}`,
		"logs/a.log":          strings.Repeat("line\n", 1000),
		"media/big.bin":       strings.Repeat("0123456789abcdef", 1<<16),
	}
	writeTree(t, src, files)
	hubID, _, err := ferry(t, "id", "--state", hubState)
	if err != nil {
		t.Fatal(err)
	}
	devID, _, err := ferry(t, "id", "--state", devState)
	if err != nil {
		t.Fatal(err)
	}
	hubID, devID = strings.TrimSpace(hubID), strings.TrimSpace(devID)

	serve := exec.Command(ferryBin, "serve", "--state", hubState, "--root", root, "--listen", "127.0.0.1:0", "--allow", devID+"=edge")
	out, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var serveErr bytes.Buffer
	serve.Stderr = &serveErr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
		if t.Failed() {
			t.Logf("hub log:\n%s", serveErr.String())
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(line)
	addr := fields[len(fields)-1]

	stdout, stderr, err := ferry(t, "send", src, addr, "--state", devState, "--hub-id", hubID, "--critical", "zz/state/**", "--json")
	if err != nil {
		t.Fatalf("send: %v\n%s", err, stderr)
	}
	var sum map[string]any
	for l := range strings.Lines(stdout) {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("not NDJSON: %q", l)
		}
		if ev["event"] == "summary" {
			sum = ev
		}
	}
	if sum == nil || sum["complete"] != true || sum["manifest"].(float64) < 1 || sum["files_sent"].(float64) != 3 {
		t.Fatalf("summary %v", sum)
	}
	if sum["critical_seconds"].(float64) <= 0 || sum["wire_bytes"].(float64) < sum["data_bytes"].(float64) || sum["data_bytes"].(float64) > sum["payload_bytes"].(float64) {
		t.Errorf("summary %v", sum)
	}
	for p, data := range files {
		got, err := os.ReadFile(filepath.Join(root, "edge", p))
		if err != nil || string(got) != data {
			t.Errorf("%s at the hub: %v", p, err)
		}
	}

	// A sender that pins another hub ID is refused, and says why.
	other, _, _ := ferry(t, "id", "--state", t.TempDir())
	_, stderr, err = ferry(t, "send", src, addr, "--state", devState, "--hub-id", strings.TrimSpace(other))
	if code := exitCodeOf(err); code != exitFailed {
		t.Errorf("send to the wrong hub: exit %d, want %d", code, exitFailed)
	}
	if !strings.Contains(stderr, "hub") {
		t.Errorf("wrong hub error does not say so: %s", stderr)
	}
}

func exitCodeOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"unknown command", []string{"frobnicate"}},
		{"send without dest", []string{"send", "."}},
		{"missing source", []string{"send", "/nonexistent/src", t.TempDir()}},
		{"remote without hub id", []string{"send", ".", "127.0.0.1:9"}},
		{"bad chunk size", []string{"send", ".", t.TempDir(), "--chunk-size", "1"}},
		{"bad glob", []string{"plan", ".", "--critical", "a{"}},
		{"serve without allow", []string{"serve", "--root", t.TempDir()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := ferry(t, tt.args...)
			if code := exitCodeOf(err); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
		})
	}
}
