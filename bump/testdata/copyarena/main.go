// Command copyarena copies a bump.Arena, the mistake that go vet must
// report (TestVetReportsCopiedArena): both copies would hand out the
// same memory.
package main

import (
	"fmt"

	"github.com/nalloc/nalloc/bump"
)

func main() {
	ar := bump.New()
	cp := *ar
	fmt.Println(ar.Alloc(8, 8) == cp.Alloc(8, 8))
}
