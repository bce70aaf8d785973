package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// bindJSON decodes the request body into v; bad JSON is a 422 in plain
// words naming the field when the decoder knows it.
func bindJSON(c *fiber.Ctx, v any) error {
	body := bytes.TrimSpace(c.Body())
	if len(body) == 0 {
		return invalidField("body-required", "", "the request needs a JSON body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalidField("invalid-json", te.Field, fmt.Sprintf("%s must be a %s", te.Field, jsonTypeName(te.Type.Kind().String())))
		}
		return invalidField("invalid-json", "", "the request body is not valid JSON")
	}
	if dec.More() {
		return invalidField("invalid-json", "", "the request body holds more than one JSON value")
	}
	return nil
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "list"
	}
	return "number"
}

func parseEmail(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || !strings.Contains(a.Address, "@") {
		return "", errors.New("invalid e-mail address")
	}
	return a.Address, nil
}

func parseUUID(s string) (uuid.UUID, error) { return uuid.Parse(s) }

// idParam reads a uuid path parameter; a malformed one is a 404 (no such
// resource can exist).
func idParam(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil || id == uuid.Nil {
		return uuid.Nil, errNotFound
	}
	return id, nil
}

// pageParams reads ?page=&per_page= (per_page at most 100).
func pageParams(c *fiber.Ctx) (page, perPage int, err error) {
	page, perPage = 1, 25
	if v := c.Query("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			return 0, 0, invalidField("page-invalid", "page", "page must be a whole number from 1")
		}
	}
	if v := c.Query("per_page"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > 100 {
			return 0, 0, invalidField("per-page-invalid", "per_page", "per_page must be a whole number from 1 to 100")
		}
	}
	return page, perPage, nil
}
