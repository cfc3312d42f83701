import {
  DOT_IGNORE_PLACEHOLDER,
  IGNORE_RULE_PLACEHOLDER,
  NO_SIZE_LIMIT,
} from "../../../../src/core/kopia/policy.ts";

/** kopi-docka@HOST's policy once its whole-data part is in place (`wholeDataFlags` has nothing to set). */
export const wholeDataPolicy = {
  files: {
    ignore: [IGNORE_RULE_PLACEHOLDER],
    ignoreDotFiles: [DOT_IGNORE_PLACEHOLDER],
    ignoreCacheDirs: false,
    maxFileSize: NO_SIZE_LIMIT,
    oneFileSystem: false,
  },
  errorHandling: { ignoreFileErrors: false, ignoreDirectoryErrors: false },
};
