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

package password

import (
	"strings"
	"testing"
)

func TestGenerateLengthAndClasses(t *testing.T) {
	for _, length := range []int{4, 6, 16, 64, 128} {
		p, err := Generate(length)
		if err != nil {
			t.Fatalf("Generate(%d): %v", length, err)
		}
		if len(p) != length {
			t.Errorf("Generate(%d) gave %d characters", length, len(p))
		}
		for _, class := range classes {
			if !strings.ContainsAny(p, class) {
				t.Errorf("Generate(%d) = a password without any of %q", length, class)
			}
		}
	}
}

func TestGenerateRefusesTooShort(t *testing.T) {
	if _, err := Generate(3); err == nil {
		t.Fatal("Generate(3) succeeded; want an error")
	}
}

func TestGenerateIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := Generate(16)
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("Generate returned %q twice in 200 draws", p)
		}
		seen[p] = true
	}
}

func TestWeakness(t *testing.T) {
	for pw, weak := range map[string]bool{
		"Sup3r-secret-pw": false, "abcDEF123": false, "abc-123-def": false, "小红Pass2024": false,
		"password123": true, "PASSWORD": true, "12345678": true, "aaaaaaaaaaaa": true, "Aa": true,
	} {
		got := Weakness(pw)
		if (got != "") != weak {
			t.Errorf("Weakness(%q) = %q, want weak %t", pw, got, weak)
		}
		if strings.Contains(got, pw) {
			t.Errorf("Weakness(%q) quotes the password: %q", pw, got)
		}
	}
	// A generated password is never weak.
	for range 100 {
		pw, err := Generate(DefaultLength)
		if err != nil {
			t.Fatal(err)
		}
		if w := Weakness(pw); w != "" {
			t.Fatalf("generated %q is weak: %s", pw, w)
		}
	}
}
