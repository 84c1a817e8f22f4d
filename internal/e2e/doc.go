// Package e2e holds ferry's end-to-end tests: real trees on disk, the real
// sender and receiver, over an in-memory pipe and over QUIC on 127.0.0.1.
// It has no non-test code besides this comment.
package e2e
