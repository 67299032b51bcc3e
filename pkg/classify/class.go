// Package classify holds the vocabulary every stage of agentctl shares: the
// risk [Class] of a command, the [Resource]s it touches, and the
// [Assessment] a classifier hands to the policy engine.
//
// # Ordering
//
// Classes are ordered by risk. The highest applicable class wins:
//
//	unknown > privilege > secret > exec > destructive > write > read
//
// [Unknown] sorts above [Privilege] so that anything a classifier could not
// understand is treated at least as strictly as a privilege change.
package classify

import (
	"fmt"
	"strings"
)

// Class is the risk class of a command.
type Class int

// The classes, lowest risk first. The numeric values are not stable; use
// [Class.String] and [ParseClass] across process boundaries.
const (
	Read Class = iota
	Write
	Destructive
	Exec
	Secret
	Privilege
	Unknown
)

var classNames = [...]string{
	Read:        "read",
	Write:       "write",
	Destructive: "destructive",
	Exec:        "exec",
	Secret:      "secret",
	Privilege:   "privilege",
	Unknown:     "unknown",
}

// Classes lists every class, lowest risk first.
func Classes() []Class {
	return []Class{Read, Write, Destructive, Exec, Secret, Privilege, Unknown}
}

func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return "unknown"
	}
	return classNames[c]
}

// ParseClass parses a class name as printed by [Class.String].
func ParseClass(s string) (Class, error) {
	for i, n := range classNames {
		if n == strings.ToLower(s) {
			return Class(i), nil
		}
	}
	return Unknown, fmt.Errorf("unknown class %q", s)
}

// MarshalText implements [encoding.TextMarshaler].
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler].
func (c *Class) UnmarshalText(b []byte) error {
	v, err := ParseClass(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Max returns the higher-risk of two classes.
func Max(a, b Class) Class {
	if b > a {
		return b
	}
	return a
}
