package gateway

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func TestSaveAndLoadJSON(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "shop.json")
	type state struct {
		Next  int      `json:"next"`
		Names []string `json:"names"`
	}

	// No file yet: v stays as it was.
	v := state{Next: 7}
	g.Expect(LoadJSON(path, &v)).To(Succeed())
	g.Expect(v).To(Equal(state{Next: 7}))

	g.Expect(SaveJSON(path, state{Next: 2, Names: []string{"小红"}})).To(Succeed())
	info, err := os.Stat(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.Mode().Perm()).To(Equal(FileMode))
	var back state
	g.Expect(LoadJSON(path, &back)).To(Succeed())
	g.Expect(back).To(Equal(state{Next: 2, Names: []string{"小红"}}))

	// Replaced, not appended to; no temporary file is left.
	g.Expect(SaveJSON(path, state{Next: 3})).To(Succeed())
	back = state{}
	g.Expect(LoadJSON(path, &back)).To(Succeed())
	g.Expect(back).To(Equal(state{Next: 3}))
	entries, err := os.ReadDir(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(entries).To(HaveLen(1))

	g.Expect(os.WriteFile(path, []byte("{not json"), FileMode)).To(Succeed())
	g.Expect(LoadJSON(path, &back)).To(MatchError(ContainSubstring(path)))
	g.Expect(SaveJSON(filepath.Join(dir, "missing", "shop.json"), back)).To(MatchError(ContainSubstring("missing")))
	g.Expect(SaveJSON(path, func() {})).To(HaveOccurred(), "a value JSON cannot encode")
	g.Expect(LoadJSON(dir, &back)).To(HaveOccurred(), "a directory")
	g.Expect(errors.Is(LoadJSON(filepath.Join(dir, "gone.json"), &back), os.ErrNotExist)).To(BeFalse())
}

func TestUnionPermissions(t *testing.T) {
	g := NewWithT(t)
	roles := []Role{{ID: "1", RoleSpec: RoleSpec{Name: "客服", Permissions: []string{"orders", "chat"}}},
		{ID: "2", RoleSpec: RoleSpec{Name: "售后", Permissions: []string{"refunds", "chat"}}}}
	perms, err := UnionPermissions(roles, AccountState{RoleIDs: []string{"1", "2"}, ExtraPermissions: []string{"logistics", "orders"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(perms).To(Equal([]string{"chat", "logistics", "orders", "refunds"}))
	perms, err = UnionPermissions(roles, AccountState{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(perms).To(BeEmpty())
	_, err = UnionPermissions(roles, AccountState{RoleIDs: []string{"1", "9"}})
	g.Expect(errors.Is(err, ErrInvalid)).To(BeTrue())
	g.Expect(platform.FieldOf(err)).To(Equal("roleIDs"))
	g.Expect(roles[0].Permissions).To(Equal([]string{"orders", "chat"}), "the roles are not changed")
}
