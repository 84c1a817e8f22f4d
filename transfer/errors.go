package transfer

import (
	"errors"
	"strings"
)

// Errors of the framing layer. Decoders wrap them with the field and offset
// that failed.
var (
	ErrMalformed     = errors.New("transfer: malformed message")
	ErrTruncated     = errors.New("transfer: stream ended inside a frame")
	ErrFrameTooLarge = errors.New("transfer: frame above its size bound")
	ErrUnknownType   = errors.New("transfer: unknown frame type")
)

// Errors that travel as codes. Each sentinel has one Code; Code and errorFor
// are the only mapping between the two.
var (
	ErrProtocol     = errors.New("transfer: protocol violation")
	ErrVersion      = errors.New("transfer: no common protocol version")
	ErrRefused      = errors.New("transfer: entry refused")
	ErrHashMismatch = errors.New("transfer: content does not match its hash")
	ErrStorage      = errors.New("transfer: receiver storage failed")
	ErrNoSpace      = errors.New("transfer: receiver out of space")
	ErrChanged      = errors.New("transfer: source changed during send")
	ErrUnreadable   = errors.New("transfer: source unreadable")
	ErrBusy         = errors.New("transfer: namespace busy")
	ErrCanceled     = errors.New("transfer: session canceled")
	ErrInternal     = errors.New("transfer: internal error")
)

// Code is an error's number on the wire.
type Code uint16

// Wire error codes. Values are part of the protocol.
const (
	CodeOK           Code = 0
	CodeProtocol     Code = 1
	CodeVersion      Code = 2
	CodeRefused      Code = 3
	CodeHashMismatch Code = 4
	CodeStorage      Code = 5
	CodeNoSpace      Code = 6
	CodeChanged      Code = 7
	CodeUnreadable   Code = 8
	CodeBusy         Code = 9
	CodeCanceled     Code = 10
	CodeInternal     Code = 11
)

var codeErrors = []struct {
	code Code
	err  error
}{
	{CodeProtocol, ErrProtocol},
	{CodeVersion, ErrVersion},
	{CodeRefused, ErrRefused},
	{CodeHashMismatch, ErrHashMismatch},
	{CodeStorage, ErrStorage},
	{CodeNoSpace, ErrNoSpace},
	{CodeChanged, ErrChanged},
	{CodeUnreadable, ErrUnreadable},
	{CodeBusy, ErrBusy},
	{CodeCanceled, ErrCanceled},
}

// CodeOf returns the wire code for err. Framing errors are protocol
// violations; anything unknown is an internal error.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	for _, ce := range codeErrors {
		if errors.Is(err, ce.err) {
			return ce.code
		}
	}
	switch {
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrTruncated),
		errors.Is(err, ErrFrameTooLarge), errors.Is(err, ErrUnknownType):
		return CodeProtocol
	}
	return CodeInternal
}

func errorFor(c Code) error {
	for _, ce := range codeErrors {
		if ce.code == c {
			return ce.err
		}
	}
	return ErrInternal
}

// RemoteError is an error the peer reported. It matches the sentinel of its
// code with errors.Is.
type RemoteError struct {
	Code    Code
	Message string
}

func (e *RemoteError) Error() string {
	return "peer: " + printable(e.Message)
}

// printable replaces control characters in text from a peer, so that a
// message cannot move a terminal's cursor or hide itself.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

// Is reports whether target is the sentinel for e's code.
func (e *RemoteError) Is(target error) bool { return errorFor(e.Code) == target }

// Retry reports whether the same session could succeed when tried again:
// busy namespaces and storage failures may clear, protocol errors do not.
func (e *RemoteError) Retry() bool {
	switch e.Code {
	case CodeBusy, CodeStorage, CodeNoSpace, CodeCanceled, CodeInternal:
		return true
	}
	return false
}
