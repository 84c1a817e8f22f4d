package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/transfer"
)

// sendOutput draws a send: NDJSON events on stdout with --json, a plan
// summary and per-file lines with -v, and a progress line on stderr.
type sendOutput struct {
	stdout, stderr io.Writer
	json           *json.Encoder
	verbose        bool
	progress       bool

	files, doneFiles int
	bytes, doneBytes int64
	class            prioritize.Class
	start, lastDraw  time.Time
}

func newSendOutput(stdout, stderr io.Writer, asJSON, verbose, progress bool) *sendOutput {
	o := &sendOutput{stdout: stdout, stderr: stderr, verbose: verbose, progress: progress, start: time.Now()}
	if asJSON {
		o.json = json.NewEncoder(stdout)
	}
	return o
}

// progressMode resolves --progress.
func progressMode(mode string, stderr io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		f, ok := stderr.(*os.File)
		if !ok {
			return false, nil
		}
		fi, err := f.Stat()
		return err == nil && fi.Mode()&os.ModeCharDevice != 0, nil
	}
	return false, usagef("--progress %q: want auto, always or never", mode)
}

func (o *sendOutput) plan(p prioritize.Plan) {
	var count [3]int
	var size [3]int64
	for i := range p.Items {
		it := &p.Items[i]
		count[it.Class]++
		size[it.Class] += it.Size
		o.bytes += it.Size
		if o.json != nil {
			o.json.Encode(planEvent(i, it))
		}
	}
	o.files = len(p.Items)
	if o.json == nil {
		fmt.Fprintf(o.stdout, "plan: %d files, %s", o.files, formatSize(o.bytes))
		for c := prioritize.Critical; c <= prioritize.Bulk; c++ {
			fmt.Fprintf(o.stdout, "; %s %d (%s)", c, count[c], formatSize(size[c]))
		}
		fmt.Fprintln(o.stdout)
	}
}

type fileEvent struct {
	Event   string `json:"event"`
	Path    string `json:"path"`
	Class   string `json:"class"`
	Bytes   int64  `json:"bytes"`
	Offset  int64  `json:"offset,omitempty"`
	Skipped bool   `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
}

func (o *sendOutput) event(e transfer.Event) {
	it := e.Item
	if it.Kind == 0 || it.Reason == "directory" {
		return
	}
	switch e.Kind {
	case transfer.EventStart:
		o.class = it.Class
		if o.json != nil {
			o.json.Encode(fileEvent{Event: "file_start", Path: it.Path, Class: it.Class.String(), Bytes: it.Size, Offset: e.Offset})
		}
	case transfer.EventProgress:
		o.doneBytes += e.Bytes
		o.draw(false)
	case transfer.EventDone:
		o.doneFiles++
		if e.Skipped {
			o.doneBytes += it.Size
		}
		fe := fileEvent{Event: "file_done", Path: it.Path, Class: it.Class.String(), Bytes: e.Bytes, Skipped: e.Skipped}
		if e.Err != nil {
			fe.Error = e.Err.Error()
		}
		if o.json != nil {
			o.json.Encode(fe)
		} else if o.verbose || e.Err != nil {
			o.clearLine()
			status := "sent"
			switch {
			case e.Err != nil:
				status = "FAILED"
			case e.Skipped:
				status = "have"
			}
			fmt.Fprintf(o.stdout, "%-6s %-8s %10s  %s", status, it.Class, formatSize(it.Size), it.Path)
			if e.Err != nil {
				fmt.Fprintf(o.stdout, ": %v", e.Err)
			}
			fmt.Fprintln(o.stdout)
		}
		o.draw(false)
	}
}

func (o *sendOutput) draw(final bool) {
	if !o.progress {
		return
	}
	now := time.Now()
	if !final && now.Sub(o.lastDraw) < 200*time.Millisecond {
		return
	}
	o.lastDraw = now
	elapsed := now.Sub(o.start).Seconds()
	rate := float64(o.doneBytes) / max(elapsed, 0.001)
	eta := "--"
	if rate > 0 && o.doneBytes < o.bytes {
		eta = (time.Duration(float64(o.bytes-o.doneBytes)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(o.stderr, "\r\033[K%s  %d/%d files  %s/%s  %s/s  ETA %s",
		o.class, o.doneFiles, o.files, formatSize(o.doneBytes), formatSize(o.bytes), formatSize(int64(rate)), eta)
	if final {
		fmt.Fprintln(o.stderr)
	}
}

func (o *sendOutput) clearLine() {
	if o.progress {
		fmt.Fprint(o.stderr, "\r\033[K")
	}
}

type summaryEvent struct {
	Event           string  `json:"event"`
	Files           int     `json:"files"`
	FilesSent       int     `json:"files_sent"`
	PayloadBytes    int64   `json:"payload_bytes"`
	DataBytes       int64   `json:"data_bytes"`
	WireBytes       int64   `json:"wire_bytes"`
	Seconds         float64 `json:"seconds"`
	CriticalSeconds float64 `json:"critical_seconds"`
	Manifest        uint64  `json:"manifest"`
	Complete        bool    `json:"complete"`
	Failed          int     `json:"failed"`
	// Probed: the hub answered a probe that it holds the tree; no
	// connection was made.
	Probed bool   `json:"probed,omitempty"`
	Error  string `json:"error,omitempty"`
}

type commitEvent struct {
	Event    string `json:"event"`
	Manifest uint64 `json:"manifest"`
	Files    uint64 `json:"files"`
	Bytes    uint64 `json:"bytes"`
	Complete bool   `json:"complete"`
}

func (o *sendOutput) summary(r agent.Report, err error) {
	o.draw(true)
	committed := err == nil
	s := summaryEvent{
		Event: "summary", Files: r.Files, FilesSent: r.FilesSent, PayloadBytes: r.PayloadBytes, DataBytes: r.DataBytes,
		WireBytes: r.WireBytes, Seconds: r.Elapsed.Seconds(), CriticalSeconds: r.CriticalElapsed.Seconds(),
		Complete: committed && r.Committed.Complete, Failed: len(r.Failed), Probed: r.Probed,
	}
	if committed {
		s.Manifest = r.Committed.Seq
	} else {
		s.Error = err.Error()
	}
	if o.json != nil {
		if committed {
			o.json.Encode(commitEvent{Event: "commit", Manifest: r.Committed.Seq, Files: r.Committed.Files, Bytes: r.Committed.Bytes, Complete: r.Committed.Complete})
		}
		o.json.Encode(s)
		return
	}
	if !committed {
		return
	}
	if r.Probed {
		fmt.Fprintf(o.stdout, "unchanged: the hub holds restore point %d (complete): %d files, %s; checked in %.2fs, %s on the wire, no connection\n",
			r.Committed.Seq, r.Committed.Files, formatSize(int64(r.Committed.Bytes)), r.Elapsed.Seconds(), formatSize(r.WireBytes))
		return
	}
	kind := "complete"
	if !r.Committed.Complete {
		kind = "partial"
	}
	fmt.Fprintf(o.stdout, "committed restore point %d (%s): %d files, %s; sent %d files, %s in %.1fs, %s on the wire",
		r.Committed.Seq, kind, r.Committed.Files, formatSize(int64(r.Committed.Bytes)),
		r.FilesSent, formatSize(r.PayloadBytes), r.Elapsed.Seconds(), formatSize(r.WireBytes))
	if r.CriticalElapsed > 0 {
		fmt.Fprintf(o.stdout, "; critical files durable after %.2fs", r.CriticalElapsed.Seconds())
	}
	fmt.Fprintln(o.stdout)
}
