package gdrive

import (
	"context"
	"fmt"
	"strings"

	drive "google.golang.org/api/drive/v3"
)

// quote makes s a string literal of Drive's query language.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// folderQuery finds a folder by name at the top of My Drive.
func folderQuery(name string) string {
	return fmt.Sprintf("name = %s and mimeType = '%s' and 'root' in parents and trashed = false", quote(name), folderMime)
}

// findOrCreateFolder returns the oldest folder named name in My Drive (with
// the drive.file scope only folders this app created are visible), creating
// it when there is none.
func findOrCreateFolder(ctx context.Context, svc *drive.Service, name string) (*drive.File, bool, error) {
	// Pages may be short (even empty) before the end: follow them.
	call := svc.Files.List().Q(folderQuery(name)).OrderBy("createdTime").PageSize(10).
		Fields("files(id,name),nextPageToken")
	for token := ""; ; {
		list, err := call.PageToken(token).Context(ctx).Do()
		if err != nil {
			return nil, false, fromGoogleAPI(err)
		}
		if len(list.Files) > 0 {
			return list.Files[0], false, nil
		}
		if token = list.NextPageToken; token == "" {
			break
		}
	}
	f, err := svc.Files.Create(&drive.File{Name: name, MimeType: folderMime, Parents: []string{"root"}}).
		Fields("id,name").Context(ctx).Do()
	if err != nil {
		return nil, false, fromGoogleAPI(err)
	}
	return f, true, nil
}

// usableFolder says whether id is still a folder named name, not trashed.
func usableFolder(ctx context.Context, svc *drive.Service, id, name string) (bool, error) {
	f, err := svc.Files.Get(id).Fields("id,name,mimeType,trashed").Context(ctx).Do()
	if err != nil {
		err = fromGoogleAPI(err)
		if ae, ok := err.(*APIError); ok && ae.Status == 404 {
			return false, nil
		}
		return false, err
	}
	return f.MimeType == folderMime && !f.Trashed && (name == "" || f.Name == name), nil
}

// filesNamed lists the ids of the files named name in folder (not trashed).
func filesNamed(ctx context.Context, svc *drive.Service, folder, name string) ([]string, error) {
	q := fmt.Sprintf("name = %s and %s in parents and trashed = false", quote(name), quote(folder))
	var ids []string
	err := svc.Files.List().Q(q).PageSize(100).Fields("files(id),nextPageToken").Pages(ctx, func(l *drive.FileList) error {
		for _, f := range l.Files {
			ids = append(ids, f.Id)
		}
		return nil
	})
	return ids, fromGoogleAPI(err)
}
