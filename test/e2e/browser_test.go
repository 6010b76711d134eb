//go:build e2e

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

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// xssName is an account name a hostile or careless back-office user could
// give; the page must show it as text.
const xssName = "<script>alert(1)</script>"

// TestBackOfficePageInABrowser opens shopsim's back-office page in a real
// browser (headless Chromium) and reads the DOM it built: each of the three
// shops shows the role, the sub-accounts and the audit entries this test
// made through shopsim's API, and the account named like a script tag is
// text in a cell, with no script element anywhere in the document.
func TestBackOfficePageInABrowser(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		t.Skip("no Chromium found (chromium, chromium-browser, google-chrome or $CHROMIUM): the browser test needs one; " +
			"on Debian 'apt-get install -y chromium' (.ci/run installs it where apt-get is available)")
	}
	g := begin(t)
	suffix := randomHex(t)
	const password = "Browser-test-pw-1"
	rememberSecret("the browser test's account password", password)
	type made struct {
		shop          shop
		role, account string
		extra         []string // further accounts
	}
	var all []made
	for _, tc := range []struct {
		shop       shop
		permission string
	}{
		{hongxing, "wangwang-chat"},
		{pdd, "chat.reply"},
		{douyin, "im-chat"},
	} {
		m := made{shop: tc.shop, role: "浏览器-" + suffix, account: "browser-" + suffix}
		var role wire.Role
		_, err := tc.shop.Call(http.MethodPost, wire.PathRoles, nil, wire.RoleSpec{Name: m.role, Permissions: []string{tc.permission}}, &role)
		g.Expect(err).NotTo(HaveOccurred())
		names := []string{m.account}
		if tc.shop == hongxing {
			names = append(names, xssName)
			m.extra = []string{xssName}
		}
		for _, name := range names {
			state := wire.AccountState{RoleIDs: []string{role.ID}}
			if tc.shop == douyin {
				// Douyin binds a phone to every sub-account (one per phone).
				n, _ := strconv.ParseUint(suffix, 16, 64)
				state.Profile.Phone = fmt.Sprintf("1390013%04d", n%10000)
			}
			create := wire.CreateAccount{Name: name, Password: password, AccountState: state}
			if tc.shop == douyin {
				// The code first: ask for it, read it from shopsim's SMS
				// stand-in, create the account with it.
				var v wire.Verification
				_, err := tc.shop.Call(http.MethodPost, wire.PathVerifications, nil, wire.CodeRequest{Phone: state.Profile.Phone}, &v)
				g.Expect(err).NotTo(HaveOccurred())
				msg, err := harness.SMS(state.Profile.Phone)
				g.Expect(err).NotTo(HaveOccurred())
				create.Code = &wire.VerificationCode{ID: v.ID, Code: msg.Code}
			}
			_, err := tc.shop.Call(http.MethodPost, wire.PathAccounts, nil, create, nil)
			if tc.shop == hongxing && name == xssName && err != nil && strings.Contains(err.Error(), "already taken") {
				err = nil // an earlier run in the same shopsim
			}
			g.Expect(err).NotTo(HaveOccurred())
		}
		all = append(all, m)
	}

	dom := dumpDOM(t, browser, env.ShopsimURL+"/")
	doc, err := html.Parse(strings.NewReader(dom))
	g.Expect(err).NotTo(HaveOccurred())

	// The page has no script of its own, so any script element came from data.
	g.Expect(find(doc, atom.Script)).To(BeEmpty(), "a script element in the DOM: data was rendered as markup")

	shops := map[string]map[string][][]string{}
	for _, section := range find(doc, atom.Section) {
		if attr(section, "class") != "shop" {
			continue
		}
		shops[text(find(section, atom.H2)[0])] = tablesByHeading(section)
	}
	for _, m := range all {
		heading := string(m.shop.Platform) + " / " + m.shop.MainAccount
		tables, ok := shops[heading]
		g.Expect(ok).To(BeTrue(), "no section %q on the page; sections: %v", heading, keys(shops))
		g.Expect(column(tables["Roles"], 1)).To(ContainElement(m.role), heading+": roles")
		logins := column(tables["Sub-accounts"], 1)
		for _, name := range append([]string{m.account}, m.extra...) {
			g.Expect(logins).To(ContainElement(m.shop.MainAccount+":"+name), heading+": sub-accounts")
		}
		actions := map[string]bool{}
		for _, row := range tables["Audit log"] {
			if len(row) > 2 && strings.HasPrefix(row[2], m.account+" (") || len(row) > 2 && strings.HasPrefix(row[2], m.role+" (") {
				actions[row[1]] = true
			}
		}
		g.Expect(actions).To(And(HaveKey("role.create"), HaveKey("account.create")), heading+": audit entries")
	}
	// The hostile name is the text of its cell, exactly.
	g.Expect(column(shops["taobao / hongxing"]["Sub-accounts"], 1)).To(ContainElement("hongxing:" + xssName))
}

// findChromium is $CHROMIUM or the first Chromium on PATH.
func findChromium() string {
	if c := os.Getenv("CHROMIUM"); c != "" {
		return c
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// dumpDOM loads url in headless Chromium, with a new empty profile and
// nothing in the background, and returns the DOM after the page loaded.
func dumpDOM(t *testing.T, browser, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s --dump-dom %s: %v\n%s", browser, url, err, stderr.String())
	}
	if !strings.Contains(string(out), "</html>") {
		t.Fatalf("%s printed no document:\n%s\n%s", browser, out, stderr.String())
	}
	return string(out)
}

// find returns the elements of type a under n, in document order.
func find(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.DataAtom == a {
			out = append(out, d)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// text is the text content of n, as the browser shows it.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// tablesByHeading maps each h3 in section to the cells of the table after
// it, one slice per row with td cells (the header row has none).
func tablesByHeading(section *html.Node) map[string][][]string {
	out := map[string][][]string{}
	heading := ""
	for d := range section.Descendants() {
		if d.Type != html.ElementNode {
			continue
		}
		switch d.DataAtom {
		case atom.H3:
			heading = text(d)
		case atom.Tr:
			var row []string
			for c := d.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.DataAtom == atom.Td {
					row = append(row, text(c))
				}
			}
			if len(row) > 0 {
				out[heading] = append(out[heading], row)
			}
		}
	}
	return out
}

func column(rows [][]string, i int) []string {
	var out []string
	for _, r := range rows {
		if i < len(r) {
			out = append(out, r[i])
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
