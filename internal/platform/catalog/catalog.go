// Package catalog holds each platform's permission catalog and role
// templates as data: one embedded YAML file per platform under data/
// (taobao.yaml, pinduoduo.yaml, douyin.yaml).
//
// A catalog lists the platform's permission codes as a tree (each code names
// its parent), marks the high-risk ones (deleting items, changing prices,
// viewing funds or payment data, managing sub-accounts), carries the
// platform's length limits, and maps the nine template names (admin,
// operations, customer-service-lead, customer-service, marketing, logistics,
// designer, finance, warehouse) to permission codes. Only admin and finance
// grant high-risk permissions.
//
// On Taobao granting a code also grants its parents and all its descendants;
// Expand applies that rule. The other platforms grant exactly the codes given.
//
// Files are parsed and validated once, on first use, and cached; a Catalog
// returned by For is shared and must be treated as read-only.
package catalog

import (
	"embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

//go:embed data/*.yaml
var files embed.FS

// Template names shared by every platform.
const (
	TemplateAdmin               = "admin"
	TemplateOperations          = "operations"
	TemplateCustomerServiceLead = "customer-service-lead"
	TemplateCustomerService     = "customer-service"
	TemplateMarketing           = "marketing"
	TemplateLogistics           = "logistics"
	TemplateDesigner            = "designer"
	TemplateFinance             = "finance"
	TemplateWarehouse           = "warehouse"
)

var templateNames = []string{
	TemplateAdmin, TemplateCustomerService, TemplateCustomerServiceLead, TemplateDesigner,
	TemplateFinance, TemplateLogistics, TemplateMarketing, TemplateOperations, TemplateWarehouse,
}

var platforms = []platform.Name{platform.Douyin, platform.Pinduoduo, platform.Taobao}

// Catalog is one platform's permission catalog, limits and role templates.
type Catalog struct {
	// Platform is the platform the catalog describes.
	Platform platform.Name
	// PasswordMinLength is the minimum sub-account password length in characters.
	PasswordMinLength int
	// RoleNameMaxLength is the maximum role (position) name length in characters.
	RoleNameMaxLength int
	// AccountNameMaxLength is the maximum sub-account name length in characters
	// (the part of the login after "main:").
	AccountNameMaxLength int
	// ExpandTree reports whether granting a code also grants its parents and
	// descendants (Taobao).
	ExpandTree bool
	// SeatCapacityBySubAccount reports that only the sub-account itself may
	// change its reception capacity (Douyin's Feige): the main account sees
	// it but cannot change it.
	SeatCapacityBySubAccount bool
	// Permissions is the catalog in file order.
	Permissions []platform.Permission
	// Templates maps each template name to its permission codes, sorted.
	Templates map[string][]string

	index    map[string]int      // code -> position in Permissions
	children map[string][]string // code -> direct children
}

// UnknownPermissionsError lists permission codes a catalog does not know.
// It matches platform.ErrInvalid with errors.Is.
type UnknownPermissionsError struct {
	// Codes are the unknown codes, sorted and de-duplicated.
	Codes []string
}

func (e *UnknownPermissionsError) Error() string {
	return "unknown permission codes: " + strings.Join(e.Codes, ", ")
}

// Unwrap returns platform.ErrInvalid: an unknown code is invalid input.
func (e *UnknownPermissionsError) Unwrap() error { return platform.ErrInvalid }

var loaders = func() map[platform.Name]func() (*Catalog, error) {
	m := make(map[platform.Name]func() (*Catalog, error), len(platforms))
	for _, p := range platforms {
		m[p] = sync.OnceValues(func() (*Catalog, error) {
			data, err := files.ReadFile("data/" + string(p) + ".yaml")
			if err != nil {
				return nil, fmt.Errorf("catalog %s: %w", p, err)
			}
			c, err := parse(data)
			if err != nil {
				return nil, fmt.Errorf("catalog %s: %w", p, err)
			}
			if c.Platform != p {
				return nil, fmt.Errorf("catalog %s: file declares platform %q", p, c.Platform)
			}
			return c, nil
		})
	}
	return m
}()

// For returns the catalog of platform p. Catalogs are parsed once and
// cached; the result is shared and must not be modified. An unknown platform
// is an error wrapping platform.ErrNotSupported.
func For(p platform.Name) (*Catalog, error) {
	load, ok := loaders[p]
	if !ok {
		return nil, fmt.Errorf("catalog: unknown platform %q: %w", p, platform.ErrNotSupported)
	}
	return load()
}

// Platforms returns the platforms that have a catalog, sorted.
func Platforms() []platform.Name { return slices.Clone(platforms) }

// TemplateNames returns the nine template names every platform defines, sorted.
func TemplateNames() []string { return slices.Clone(templateNames) }

// Lookup returns the permission with the given code.
func (c *Catalog) Lookup(code string) (platform.Permission, bool) {
	i, ok := c.index[code]
	if !ok {
		return platform.Permission{}, false
	}
	return c.Permissions[i], true
}

// Template returns a copy of the codes of the named template.
func (c *Catalog) Template(name string) ([]string, bool) {
	codes, ok := c.Templates[name]
	if !ok {
		return nil, false
	}
	return slices.Clone(codes), true
}

// Expand returns the sorted, de-duplicated set of codes that granting codes
// grants (nil when empty). With ExpandTree (Taobao) granting a code also
// grants its parents and all its descendants; otherwise exactly the codes.
// Unknown codes yield an *UnknownPermissionsError listing every one of them.
func (c *Catalog) Expand(codes []string) ([]string, error) {
	listed := make(map[string]struct{}, len(codes))
	var unknown []string
	for _, code := range codes {
		if _, ok := c.index[code]; !ok {
			unknown = append(unknown, code)
			continue
		}
		listed[code] = struct{}{}
	}
	if len(unknown) > 0 {
		return nil, &UnknownPermissionsError{Codes: sortedUnique(unknown)}
	}
	set := make(map[string]struct{}, len(listed))
	for code := range listed {
		set[code] = struct{}{}
		if !c.ExpandTree {
			continue
		}
		for p := c.Permissions[c.index[code]].Parent; p != ""; p = c.Permissions[c.index[p]].Parent {
			set[p] = struct{}{}
		}
		// A code listed with some of its children is a partial grant (the
		// shape Expand itself returns for a child's parents): it grants only
		// those children. Listed alone, it grants everything below it. This
		// keeps Expand idempotent, so an expanded set stays what it is.
		if !c.anyChildIn(code, listed) {
			c.addDescendants(code, set)
		}
	}
	return sortedKeys(set), nil
}

func (c *Catalog) anyChildIn(code string, set map[string]struct{}) bool {
	for _, child := range c.children[code] {
		if _, ok := set[child]; ok {
			return true
		}
	}
	return false
}

func (c *Catalog) addDescendants(code string, set map[string]struct{}) {
	for _, child := range c.children[code] {
		set[child] = struct{}{}
		c.addDescendants(child, set)
	}
}

// HighRisk returns the high-risk codes among codes, sorted and de-duplicated
// (nil when none). Unknown codes are ignored. It does not expand: pass the
// result of Expand to judge what a grant really gives.
func (c *Catalog) HighRisk(codes []string) []string {
	set := make(map[string]struct{})
	for _, code := range codes {
		if p, ok := c.Lookup(code); ok && p.HighRisk {
			set[code] = struct{}{}
		}
	}
	return sortedKeys(set)
}

// file is the YAML layout of a catalog file.
type file struct {
	Platform             platform.Name `json:"platform"`
	PasswordMinLength    int           `json:"passwordMinLength"`
	RoleNameMaxLength    int           `json:"roleNameMaxLength"`
	AccountNameMaxLength int           `json:"accountNameMaxLength"`
	ExpandTree           bool          `json:"expandTree"`
	// SeatCapacityBySubAccount: see Catalog.
	SeatCapacityBySubAccount bool                `json:"seatCapacityBySubAccount,omitempty"`
	Permissions              []filePermission    `json:"permissions"`
	Templates                map[string][]string `json:"templates"`
}

type filePermission struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Parent   string `json:"parent,omitempty"`
	HighRisk bool   `json:"highRisk,omitempty"`
}

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9]*([.-][a-z0-9]+)*$`)

// parse decodes and validates one catalog file.
func parse(data []byte) (*Catalog, error) {
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	var errs []error
	if !slices.Contains(platforms, f.Platform) {
		errs = append(errs, fmt.Errorf("unknown platform %q", f.Platform))
	}
	for name, v := range map[string]int{
		"passwordMinLength":    f.PasswordMinLength,
		"roleNameMaxLength":    f.RoleNameMaxLength,
		"accountNameMaxLength": f.AccountNameMaxLength,
	} {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}

	c := &Catalog{
		Platform:                 f.Platform,
		PasswordMinLength:        f.PasswordMinLength,
		RoleNameMaxLength:        f.RoleNameMaxLength,
		AccountNameMaxLength:     f.AccountNameMaxLength,
		ExpandTree:               f.ExpandTree,
		SeatCapacityBySubAccount: f.SeatCapacityBySubAccount,
		Permissions:              make([]platform.Permission, 0, len(f.Permissions)),
		Templates:                make(map[string][]string, len(f.Templates)),
		index:                    make(map[string]int, len(f.Permissions)),
		children:                 make(map[string][]string),
	}
	if len(f.Permissions) == 0 {
		errs = append(errs, errors.New("no permissions"))
	}
	for _, p := range f.Permissions {
		switch {
		case !codePattern.MatchString(p.Code):
			errs = append(errs, fmt.Errorf("permission code %q is not lowercase dotted or dashed", p.Code))
			continue
		case strings.TrimSpace(p.Name) == "":
			errs = append(errs, fmt.Errorf("permission %q has no name", p.Code))
		}
		if _, dup := c.index[p.Code]; dup {
			errs = append(errs, fmt.Errorf("duplicate permission code %q", p.Code))
			continue
		}
		c.index[p.Code] = len(c.Permissions)
		c.Permissions = append(c.Permissions, platform.Permission(p))
	}
	for _, p := range c.Permissions {
		if p.Parent == "" {
			continue
		}
		if _, ok := c.index[p.Parent]; !ok {
			errs = append(errs, fmt.Errorf("permission %q: unknown parent %q", p.Code, p.Parent))
			continue
		}
		c.children[p.Parent] = append(c.children[p.Parent], p.Code)
	}
	if err := c.checkCycles(); err != nil {
		errs = append(errs, err)
	}

	for _, name := range templateNames {
		if _, ok := f.Templates[name]; !ok {
			errs = append(errs, fmt.Errorf("template %q missing", name))
		}
	}
	for name, codes := range f.Templates {
		if !slices.Contains(templateNames, name) {
			errs = append(errs, fmt.Errorf("unknown template %q", name))
			continue
		}
		if len(codes) == 0 {
			errs = append(errs, fmt.Errorf("template %q is empty", name))
			continue
		}
		for _, code := range codes {
			if _, ok := c.index[code]; !ok {
				errs = append(errs, fmt.Errorf("template %q: unknown permission %q", name, code))
			}
		}
		c.Templates[name] = sortedUnique(codes)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// checkCycles reports a parent chain that loops. Parents must already be
// known (unknown parents are reported separately and end a chain).
func (c *Catalog) checkCycles() error {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make(map[string]int, len(c.Permissions))
	for _, p := range c.Permissions {
		var path []string
		code := p.Code
		for code != "" && state[code] == unvisited {
			i, ok := c.index[code]
			if !ok {
				break
			}
			state[code] = visiting
			path = append(path, code)
			code = c.Permissions[i].Parent
		}
		if code != "" && state[code] == visiting {
			return fmt.Errorf("permission parent cycle: %s -> %s", strings.Join(path[slices.Index(path, code):], " -> "), code)
		}
		for _, v := range path {
			state[v] = done
		}
	}
	return nil
}

func sortedKeys(set map[string]struct{}) []string {
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedUnique(codes []string) []string {
	if len(codes) == 0 {
		return nil
	}
	out := slices.Clone(codes)
	sort.Strings(out)
	return slices.Compact(out)
}
