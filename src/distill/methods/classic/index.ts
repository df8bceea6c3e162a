// The classic KD family (RepDistiller and each method's official code): importing registers every method.
import './kd';
import './label_smoothing';
import './tfkd';
import './dkd';
import './cs_kd';
import './fitnets';
import './at';
import './sp';
import './rkd';
import './pkt';
import './ifkd';
import './fsp';
import './crd';
import './ofd';
import './kdcl';
import './takd';
import './bss';
export { pairedClassBatches } from './cs_kd';
