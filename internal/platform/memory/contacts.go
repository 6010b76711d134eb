package memory

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// Notification contact limits (customer-service phone settings).
const (
	// MaxContacts is how many notification contacts a shop may have.
	MaxContacts = 10
	// MaxContactNameLength is the longest contact name, in characters.
	MaxContactNameLength = 32
)

// phonePattern is an 11-digit mainland mobile number or E.164, as the
// SubAccount and Shop CRDs accept.
var phonePattern = regexp.MustCompile(`^(1[3-9][0-9]{9}|\+[1-9][0-9]{6,14})$`)

// ContactRecord is a stored notification contact. Its phone is verified by
// SMS code like a Douyin sub-account's.
type ContactRecord struct {
	ID           string              `json:"id"`
	Name         string              `json:"name"`
	Phone        string              `json:"phone"`
	Verification *VerificationRecord `json:"verification"`
}

func (ct *ContactRecord) view() platform.Contact {
	return platform.Contact{ID: ct.ID, ContactSpec: platform.ContactSpec{Name: ct.Name, Phone: ct.Phone},
		Verification: *ct.Verification.view()}
}

// Contacts returns the shop's notification contacts sorted by ID (nil for
// an unknown shop).
func (e *Engine) Contacts(p platform.Name, mainAccount string) []platform.Contact {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return nil
	}
	return sh.contacts()
}

func (sh *ShopState) contacts() []platform.Contact {
	ids := sortedIDs(sh.Contacts)
	if len(ids) == 0 {
		return nil
	}
	out := make([]platform.Contact, 0, len(ids))
	for _, id := range ids {
		out = append(out, sh.Contacts[id].view())
	}
	return out
}

func validateContactName(name string) error {
	if strings.TrimSpace(name) == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxContactNameLength {
		return platform.NewError(platform.ErrInvalid, "name", "contact name must be 1-%d characters", MaxContactNameLength)
	}
	return nil
}

func (sh *ShopState) contact(id string) (*ContactRecord, error) {
	ct, ok := sh.Contacts[id]
	if !ok {
		return nil, platform.NewError(platform.ErrNotFound, "id", "no notification contact with ID %q", id)
	}
	return ct, nil
}

func (c *client) ListContacts(ctx context.Context) ([]platform.Contact, error) {
	var out []platform.Contact
	err := c.call(ctx, "ListContacts", func(sh *ShopState, _ *catalog.Catalog) error {
		out = sh.contacts()
		return nil
	})
	return out, err
}

// AddContact adds a contact and sends its phone a code.
func (c *client) AddContact(ctx context.Context, spec platform.ContactSpec) (platform.Contact, error) {
	var out platform.Contact
	err := c.call(ctx, "AddContact", func(sh *ShopState, _ *catalog.Catalog) error {
		if err := validateContactName(spec.Name); err != nil {
			return err
		}
		if !phonePattern.MatchString(spec.Phone) {
			return platform.NewError(platform.ErrInvalid, "phone", "phone must be an 11-digit mainland mobile number or E.164")
		}
		for _, ct := range sh.Contacts {
			if ct.Phone == spec.Phone {
				return platform.NewError(platform.ErrConflict, "phone", "the phone number is already notification contact %q", ct.Name)
			}
		}
		if len(sh.Contacts) >= MaxContacts {
			return platform.NewError(platform.ErrInvalid, "", "a shop may have at most %d notification contacts", MaxContacts)
		}
		now := c.e.clock()
		ct := &ContactRecord{ID: c.e.nextID(), Name: spec.Name, Phone: spec.Phone, Verification: c.e.sendCode(spec.Phone, now)}
		sh.Contacts[ct.ID] = ct
		src := platform.SourceFrom(ctx)
		sh.audit(now, src, "contact.create", ct.ID, ct.Name, "phone "+MaskPhone(ct.Phone))
		sh.audit(now, src, "contact.verification", ct.ID, ct.Name, "verification code sent")
		out = ct.view()
		return nil
	})
	return out, err
}

// UpdateContact renames a contact.
func (c *client) UpdateContact(ctx context.Context, id string, spec platform.ContactSpec) (platform.Contact, error) {
	var out platform.Contact
	err := c.call(ctx, "UpdateContact", func(sh *ShopState, _ *catalog.Catalog) error {
		ct, err := sh.contact(id)
		if err != nil {
			return err
		}
		if spec.Phone != ct.Phone {
			return platform.NewError(platform.ErrInvalid, "phone", "a contact's phone cannot change; delete the contact and add a new one")
		}
		if err := validateContactName(spec.Name); err != nil {
			return err
		}
		ct.Name = spec.Name
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), "contact.update", ct.ID, ct.Name, "renamed")
		out = ct.view()
		return nil
	})
	return out, err
}

func (c *client) DeleteContact(ctx context.Context, id string) error {
	return c.call(ctx, "DeleteContact", func(sh *ShopState, _ *catalog.Catalog) error {
		ct, err := sh.contact(id)
		if err != nil {
			return err
		}
		delete(sh.Contacts, id)
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), "contact.delete", ct.ID, ct.Name, "")
		return nil
	})
}

// pendingContact finds a contact that awaits its code: ErrConflict once
// verified.
func (sh *ShopState) pendingContact(id string) (*ContactRecord, error) {
	ct, err := sh.contact(id)
	if err != nil {
		return nil, err
	}
	if ct.Verification.Verified {
		return nil, platform.NewError(platform.ErrConflict, "", "notification contact %q is already verified", ct.Name)
	}
	return ct, nil
}

// VerifyContact enters the code sent to the contact's phone, with the same
// rules as VerifyAccount.
func (c *client) VerifyContact(ctx context.Context, id, code string) (platform.Contact, error) {
	var out platform.Contact
	err := c.call(ctx, "VerifyContact", func(sh *ShopState, _ *catalog.Catalog) error {
		ct, err := sh.pendingContact(id)
		if err != nil {
			return err
		}
		now := c.e.clock()
		if err := ct.Verification.check(code, now); err != nil {
			return err
		}
		sh.audit(now, platform.SourceFrom(ctx), "contact.verify", ct.ID, ct.Name, "phone verified")
		out = ct.view()
		return nil
	})
	return out, err
}

// ResendContactCode sends the contact a new code, at most one a minute.
func (c *client) ResendContactCode(ctx context.Context, id string) (platform.Contact, error) {
	var out platform.Contact
	err := c.call(ctx, "ResendContactCode", func(sh *ShopState, _ *catalog.Catalog) error {
		ct, err := sh.pendingContact(id)
		if err != nil {
			return err
		}
		now := c.e.clock()
		v, err := c.e.resend(ct.Verification, ct.Phone, now)
		if err != nil {
			return err
		}
		ct.Verification = v
		sh.audit(now, platform.SourceFrom(ctx), "contact.verification", ct.ID, ct.Name, "verification code sent")
		out = ct.view()
		return nil
	})
	return out, err
}
