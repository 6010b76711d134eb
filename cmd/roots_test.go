package main

import (
	"crypto/x509"
	"testing"
)

// TestFallbackRootsAreLinked: the image has no CA bundle, so the manager
// must carry its own roots (golang.org/x/crypto/x509roots/fallback) or every
// https call to a gateway or to TOP fails in a cluster. The package sets the
// fallback roots in its init, and a second SetFallbackRoots panics.
func TestFallbackRootsAreLinked(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("x509.SetFallbackRoots did not panic: the manager does not import golang.org/x/crypto/x509roots/fallback, and its image has no CA bundle")
		}
	}()
	x509.SetFallbackRoots(x509.NewCertPool())
}
