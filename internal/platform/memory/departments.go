package memory

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// DepartmentRecord is a stored department.
type DepartmentRecord struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	ParentID  string    `json:"parentID,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// init fills in the maps a shop state may lack (older state files).
func (sh *ShopState) init() {
	if sh.Departments == nil {
		sh.Departments = map[string]*DepartmentRecord{}
	}
	if sh.DepartmentRequests == nil {
		sh.DepartmentRequests = map[string]string{}
	}
	if sh.Contacts == nil {
		sh.Contacts = map[string]*ContactRecord{}
	}
	if sh.Verifications == nil {
		sh.Verifications = map[string]*VerificationRecord{}
	}
	if sh.VerificationRequests == nil {
		sh.VerificationRequests = map[string]string{}
	}
}

// normalizeDepartmentsAndContacts checks the departments' and contacts' IDs
// and that every parent exists.
func (sh *ShopState) normalizeDepartmentsAndContacts(key string, noteID func(id, what string) error) error {
	for id, d := range sh.Departments {
		if d == nil || d.ID != id {
			return fmt.Errorf("shop %q: department %q is null or has a different ID", key, id)
		}
		if err := noteID(id, "department "+key+"/"+d.Name); err != nil {
			return err
		}
		if _, ok := sh.Departments[d.ParentID]; d.ParentID != "" && !ok {
			return fmt.Errorf("shop %q: department %q has an unknown parent %q", key, id, d.ParentID)
		}
	}
	for id, ct := range sh.Contacts {
		if ct == nil || ct.ID != id || ct.Verification == nil {
			return fmt.Errorf("shop %q: contact %q is null, has a different ID or no verification", key, id)
		}
		if err := noteID(id, "contact "+key+"/"+ct.Name); err != nil {
			return err
		}
	}
	return nil
}

// Departments returns the shop's departments sorted by ID (nil for an
// unknown shop).
func (e *Engine) Departments(p platform.Name, mainAccount string) []platform.Department {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return nil
	}
	return sh.departments()
}

func (sh *ShopState) departments() []platform.Department {
	ids := sortedIDs(sh.Departments)
	if len(ids) == 0 {
		return nil
	}
	members := map[string]int{}
	for _, a := range sh.Accounts {
		if id := a.State.Profile.DepartmentID; id != "" {
			members[id]++
		}
	}
	out := make([]platform.Department, 0, len(ids))
	for _, id := range ids {
		d := sh.Departments[id]
		out = append(out, platform.Department{ID: d.ID, DepartmentSpec: platform.DepartmentSpec{Name: d.Name, ParentID: d.ParentID},
			Members: members[id]})
	}
	return out
}

// depth is how many levels the department is below the top (1 at the top).
func (sh *ShopState) depth(id string) int {
	n := 0
	for id != "" && n <= platform.MaxDepartmentDepth {
		n++
		id = sh.Departments[id].ParentID
	}
	return n
}

func (c *client) ListDepartments(ctx context.Context) ([]platform.Department, error) {
	var out []platform.Department
	err := c.call(ctx, "ListDepartments", func(sh *ShopState, _ *catalog.Catalog) error {
		out = sh.departments()
		return nil
	})
	return out, err
}

// CreateDepartment checks, in this order: the platform has departments,
// the name, the parent, the depth, the name among its siblings, the count.
func (c *client) CreateDepartment(ctx context.Context, spec platform.DepartmentSpec, requestID string) (platform.Department, error) {
	var out platform.Department
	err := c.call(ctx, "CreateDepartment", func(sh *ShopState, _ *catalog.Catalog) error {
		if sh.Platform != platform.Taobao {
			return platform.NewError(platform.ErrNotSupported, "", "%s shops have no departments", sh.Platform)
		}
		if id, ok := sh.DepartmentRequests[requestID]; ok && requestID != "" {
			if d, ok := sh.Departments[id]; ok {
				out = platform.Department{ID: d.ID, DepartmentSpec: platform.DepartmentSpec{Name: d.Name, ParentID: d.ParentID}}
				return nil
			}
			delete(sh.DepartmentRequests, requestID)
		}
		name := spec.Name
		switch {
		case strings.TrimSpace(name) == "" || !utf8.ValidString(name):
			return platform.NewError(platform.ErrInvalid, "name", "department name must be non-empty UTF-8")
		case strings.Contains(name, "/"):
			return platform.NewError(platform.ErrInvalid, "name", "department name must not contain '/'")
		case utf8.RuneCountInString(name) > platform.MaxDepartmentNameLength:
			return platform.NewError(platform.ErrInvalid, "name", "department name must be at most %d characters", platform.MaxDepartmentNameLength)
		}
		if _, ok := sh.Departments[spec.ParentID]; spec.ParentID != "" && !ok {
			return platform.NewError(platform.ErrInvalid, "parentId", "no department with ID %q", spec.ParentID)
		}
		if sh.depth(spec.ParentID) >= platform.MaxDepartmentDepth {
			return platform.NewError(platform.ErrInvalid, "parentId", "departments may be at most %d levels deep", platform.MaxDepartmentDepth)
		}
		for _, d := range sh.Departments {
			if d.ParentID == spec.ParentID && d.Name == name {
				return platform.NewError(platform.ErrNameTaken, "name", "department %q already exists there (ID %s)", name, d.ID)
			}
		}
		if len(sh.Departments) >= platform.MaxDepartments {
			return platform.NewError(platform.ErrInvalid, "", "a shop may have at most %d departments", platform.MaxDepartments)
		}
		now := c.e.clock()
		d := &DepartmentRecord{ID: c.e.nextID(), Name: name, ParentID: spec.ParentID, CreatedAt: now}
		sh.Departments[d.ID] = d
		remember(sh.DepartmentRequests, requestID, d.ID, func(id string) bool { return sh.Departments[id] != nil }, len(sh.Departments))
		sh.audit(now, platform.SourceFrom(ctx), "department.create", d.ID, d.Name, "parent="+d.ParentID)
		out = platform.Department{ID: d.ID, DepartmentSpec: platform.DepartmentSpec{Name: d.Name, ParentID: d.ParentID}}
		return nil
	})
	return out, err
}

// DeleteDepartment refuses while the department has members or
// sub-departments.
func (c *client) DeleteDepartment(ctx context.Context, id string) error {
	return c.call(ctx, "DeleteDepartment", func(sh *ShopState, _ *catalog.Catalog) error {
		d, ok := sh.Departments[id]
		if !ok {
			return platform.NewError(platform.ErrNotFound, "id", "no department with ID %q", id)
		}
		members, children := 0, 0
		for _, a := range sh.Accounts {
			if a.State.Profile.DepartmentID == id {
				members++
			}
		}
		for _, o := range sh.Departments {
			if o.ParentID == id {
				children++
			}
		}
		switch {
		case members > 0:
			return platform.NewError(platform.ErrConflict, "", "department %q still has %d member(s)", d.Name, members)
		case children > 0:
			return platform.NewError(platform.ErrConflict, "", "department %q still has %d sub-department(s)", d.Name, children)
		}
		delete(sh.Departments, id)
		forgetRequests(sh.DepartmentRequests, id)
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), "department.delete", d.ID, d.Name, "")
		return nil
	})
}

// checkDepartment refuses an account's unknown department ID.
func checkDepartment(sh *ShopState, id string) error {
	if _, ok := sh.Departments[id]; id != "" && !ok {
		return platform.NewError(platform.ErrInvalid, "department", "no department with ID %q", id)
	}
	return nil
}
