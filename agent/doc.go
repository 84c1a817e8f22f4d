// Package agent owns the sending side's orchestration: it scans a source
// tree, orders it into a plan, connects to a receiver and runs the session,
// reporting progress through hooks and the outcome as a Report.
package agent
