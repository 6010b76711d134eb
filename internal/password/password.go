/*
Copyright 2026 The subaccount-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package password generates sub-account passwords with crypto/rand.
package password

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"unicode"
)

// DefaultLength is the length of a generated password when none is set.
const DefaultLength = 16

// Character classes. Look-alike characters (0/O, 1/l/I) are left out so a
// password read aloud or from a screen is typed right the first time.
const (
	lower   = "abcdefghijkmnopqrstuvwxyz"
	upper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	digits  = "23456789"
	symbols = "!@#%^*-_=+"
)

var classes = []string{lower, upper, digits, symbols}

// Generate returns a random password of the given length holding at least
// one character of each class (platforms commonly require a mix).
func Generate(length int) (string, error) {
	if length < len(classes) {
		return "", fmt.Errorf("password length %d is below the minimum of %d", length, len(classes))
	}
	all := lower + upper + digits + symbols
	out := make([]byte, length)
	for i := range out {
		set := all
		if i < len(classes) {
			set = classes[i]
		}
		c, err := pick(set)
		if err != nil {
			return "", err
		}
		out[i] = c
	}
	// Shuffle so the guaranteed classes are not always in front.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("reading randomness: %w", err)
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func pick(set string) (byte, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
	if err != nil {
		return 0, fmt.Errorf("reading randomness: %w", err)
	}
	return set[n.Int64()], nil
}

// Weakness says why a password someone supplies is weak, or "" when it is
// not: besides the platform's minimum length, it must mix at least three
// kinds of character (lower-case letters, upper-case letters, digits,
// anything else) and not be one character repeated. The answer never
// quotes the password.
func Weakness(pw string) string {
	var kinds [4]bool
	first, same := rune(-1), true
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			kinds[0] = true
		case unicode.IsUpper(r):
			kinds[1] = true
		case unicode.IsDigit(r):
			kinds[2] = true
		default:
			kinds[3] = true
		}
		if first < 0 {
			first = r
		}
		same = same && r == first
	}
	n := 0
	for _, k := range kinds {
		if k {
			n++
		}
	}
	switch {
	case same:
		return "it is one character repeated"
	case n < 3:
		return fmt.Sprintf("it mixes %d kinds of character; use at least 3 of lower-case letters, upper-case letters, digits and symbols", n)
	}
	return ""
}
