/**
 * ssl-workbook: the helper library behind the self-supervised learning workbook.
 */
export { tf } from "./backend/tf";
