package platform

// Taobao's department tree (部门结构) has these limits, defined here once.
// The memory engine (and so shopsim) refuses to go beyond them; the Shop
// CRD's markers (api/v1alpha1: a marker cannot name a Go constant) and
// the docs say the same, and TestDepartmentLimitsAgree fails when one of
// them says otherwise. The merchant help pages give no limits: these are
// the project's own choice (an assumption), three levels as the Shop's
// spec.departments nests them (Department, SubDepartment, LeafDepartment).
const (
	// MaxDepartmentNameLength is the longest department name, in characters.
	MaxDepartmentNameLength = 32
	// MaxDepartmentDepth is how deep the tree may go (1 = top level only).
	MaxDepartmentDepth = 3
	// MaxDepartments is how many departments a shop may have.
	MaxDepartments = 200
)
