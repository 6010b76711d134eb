package catalog

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// FuzzExpand feeds Expand code lists drawn from a catalog (picks index the
// catalog's codes) mixed with junk (comma-separated, anything goes) and
// checks its contract: no panic; a result sorted and de-duplicated;
// Expand(Expand(x)) == Expand(x); every known input code in the result;
// unknown codes refused with an *UnknownPermissionsError naming exactly the
// unknown ones.
func FuzzExpand(f *testing.F) {
	f.Add(uint8(0), []byte{0, 1, 2}, "")
	f.Add(uint8(1), []byte{5, 5, 5}, "")
	f.Add(uint8(2), []byte{}, "")
	f.Add(uint8(2), []byte{3, 200}, "no-such-code,,x,no-such-code")
	f.Add(uint8(0), []byte{7}, "sm,sm-design,SM, sm")
	f.Add(uint8(1), []byte(nil), "小红,\x00,\xff")
	platforms := Platforms()
	f.Fuzz(func(t *testing.T, p uint8, picks []byte, junk string) {
		c, err := For(platforms[int(p)%len(platforms)])
		if err != nil {
			t.Fatal(err)
		}
		codes := allCodes(c)
		var in []string
		for _, b := range picks {
			in = append(in, codes[int(b)%len(codes)])
		}
		if junk != "" {
			// Interleave the junk so unknown codes sit between known ones.
			for i, j := range strings.Split(junk, ",") {
				at := 0
				if len(in) > 0 {
					at = (i * 7) % (len(in) + 1)
				}
				in = slices.Insert(in, at, j)
			}
		}
		input := slices.Clone(in)

		got, err := c.Expand(in)
		if !slices.Equal(in, input) {
			t.Fatalf("Expand modified its input: %q became %q", input, in)
		}

		var unknown []string
		for _, code := range in {
			if _, ok := c.Lookup(code); !ok {
				unknown = append(unknown, code)
			}
		}
		if len(unknown) > 0 {
			var ue *UnknownPermissionsError
			if !errors.As(err, &ue) {
				t.Fatalf("Expand(%q) error = %v, want *UnknownPermissionsError", in, err)
			}
			slices.Sort(unknown)
			unknown = slices.Compact(unknown)
			if !slices.Equal(ue.Codes, unknown) {
				t.Fatalf("Expand(%q) unknown = %q, want exactly %q", in, ue.Codes, unknown)
			}
			if !errors.Is(err, platform.ErrInvalid) {
				t.Fatalf("UnknownPermissionsError does not match platform.ErrInvalid")
			}
			if got != nil {
				t.Fatalf("Expand(%q) returned %q alongside an error", in, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("Expand(%q) of known codes: %v", in, err)
		}
		for i := 1; i < len(got); i++ {
			if got[i-1] >= got[i] {
				t.Fatalf("Expand(%q) = %q: not sorted and de-duplicated at %d", in, got, i)
			}
		}
		for _, code := range in {
			if _, found := slices.BinarySearch(got, code); !found {
				t.Fatalf("Expand(%q) = %q lacks the input code %q", in, got, code)
			}
		}
		for _, code := range got {
			if _, ok := c.Lookup(code); !ok {
				t.Fatalf("Expand(%q) = %q invents the code %q", in, got, code)
			}
		}
		again, err := c.Expand(got)
		if err != nil {
			t.Fatalf("Expand(Expand(%q)): %v", in, err)
		}
		if !slices.Equal(again, got) {
			t.Fatalf("not idempotent: Expand(%q) = %q, Expand of that = %q", in, got, again)
		}
	})
}
